from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    """Login and usage events; every table lives in the `analytics` database."""

    name = "apps.analytics"
    label = "analytics"
    verbose_name = "Analytics"
