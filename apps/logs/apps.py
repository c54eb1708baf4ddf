from django.apps import AppConfig


class LogsConfig(AppConfig):
    """Audit trail and application log; every table lives in the `logs` database."""

    name = "apps.logs"
    label = "logs"
    verbose_name = "Logs"
