from django.conf import settings
from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.core.admin import ReadOnlyModelAdmin
from apps.notifications import kinds, rendering, services
from apps.notifications.models import Notification, SMSTemplate


@admin.register(Notification)
class NotificationAdmin(ReadOnlyModelAdmin):
    list_display = ("created_at", "key", "channel", "recipient", "address", "status", "attempts", "sent_at")
    list_filter = ("status", "channel", "key", "category", "created_at")
    search_fields = ("=recipient__email", "address", "key", "idempotency_key", "provider_message_id")
    list_select_related = ("recipient",)
    date_hierarchy = "created_at"
    actions = ("resend",)

    @admin.action(description=_("Send again (a new copy)"), permissions=["resend"])
    def resend(self, request, queryset):
        copies = [services.notification_resend(notification=notification) for notification in queryset]
        self.message_user(
            request,
            ngettext("Queued %(count)d copy.", "Queued %(count)d copies.", len(copies))
            % {"count": len(copies)},
            messages.SUCCESS,
        )

    def has_resend_permission(self, request) -> bool:
        return request.user.has_perm("notifications.add_notification")


@admin.register(SMSTemplate)
class SMSTemplateAdmin(admin.ModelAdmin):
    list_display = ("key", "description", "is_active", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("key", "description", "body")
    readonly_fields = ("preview", "variables", "created_at", "updated_at")
    fields = ("key", "description", "body", "is_active", "variables", "preview", "created_at", "updated_at")

    def get_readonly_fields(self, request, obj=None):
        # The key ties a template to the code that sends it: renaming one breaks that message.
        return (*self.readonly_fields, "key") if obj is not None else self.readonly_fields

    @admin.display(description=_("variables"))
    def variables(self, template: SMSTemplate) -> str:
        return ", ".join(rendering.variables(template.body)) or "-"

    @admin.display(description=_("preview (saved text, sample values)"))
    def preview(self, template: SMSTemplate) -> str:
        if not template.pk:
            return "-"
        try:
            text = rendering.sms_text(template.body, _sample(template), where="this template")
        except rendering.RenderError as exc:
            return format_html('<span style="color:#b91c1c">{}</span>', str(exc))
        return format_html("<code>{}</code> ({} characters)", text, len(text))


def _sample(template: SMSTemplate) -> dict:
    """The kind's sample values; a variable it has none for shows its own name, [like_this]."""
    try:
        sample = dict(kinds.get(template.key).sample_context)
    except LookupError:
        sample = {}
    placeholders = {name.split(".")[0]: f"[{name}]" for name in rendering.variables(template.body)}
    return {**placeholders, "site_name": settings.SITE_NAME, **sample}
