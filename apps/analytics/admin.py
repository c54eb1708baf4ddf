from django.contrib import admin

from apps.analytics.models import LoginEvent
from apps.core.admin import ReadOnlyModelAdmin


@admin.register(LoginEvent)
class LoginEventAdmin(ReadOnlyModelAdmin):
    list_display = ("created_at", "email", "user_id", "success", "method", "ip")
    list_filter = ("success", "method", "created_at")
    search_fields = ("email", "ip")
    date_hierarchy = "created_at"
