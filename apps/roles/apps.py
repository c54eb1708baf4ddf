from django.apps import AppConfig


class RolesConfig(AppConfig):
    name = "apps.roles"
    label = "roles"
    verbose_name = "Roles"

    def ready(self):
        from apps.core.throttles import register_read_along
        from apps.roles import receivers  # noqa: F401 - keeps cached permission sets fresh
        from apps.roles.backends import PermissionsReadAlong

        register_read_along(PermissionsReadAlong())
