from django.contrib import admin

from apps.core.admin import ReadOnlyModelAdmin
from apps.logs.models import ApplicationLog, AuditLog


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyModelAdmin):
    list_display = ("created_at", "action", "actor_id", "target_type", "target_id", "ip", "request_id")
    list_filter = ("action", "target_type", "created_at")
    search_fields = ("action", "target_id", "request_id", "=actor_id")
    date_hierarchy = "created_at"


@admin.register(ApplicationLog)
class ApplicationLogAdmin(ReadOnlyModelAdmin):
    list_display = ("created_at", "level", "logger", "short_message", "request_id")
    list_filter = ("level", "logger", "created_at")
    search_fields = ("message", "request_id", "logger")
    date_hierarchy = "created_at"

    @admin.display(description="message")
    def short_message(self, obj: ApplicationLog) -> str:
        return obj.message[:120]
