"""Bookings in the admin. Every write goes through apps/bookings/services, as the API's do.

Bookings are read-only here (they are made and moved through the API, under its rules); the
"Confirm" and "Cancel" actions call the same services, so they are checked, audited and tell both
parties. A provider's working hours are edited inline on their profile and saved as a whole by
`working_hours_replace`, the service behind `PUT providers/me/working-hours/`.
"""

from django import forms
from django.contrib import admin, messages
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from apps.bookings import services
from apps.bookings.models import Booking, ProviderProfile, WorkingHours
from apps.bookings.services.schedule import working_hours_check
from apps.core.errors import DomainError


class WorkingHoursFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        rows = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("start")
        ]
        try:
            working_hours_check(
                [{"weekday": row["weekday"], "start": row["start"], "end": row["end"]} for row in rows]
            )
        except DomainError as exc:
            raise forms.ValidationError(exc.messages) from exc


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    formset = WorkingHoursFormSet
    fields = ("weekday", "start", "end")
    extra = 1
    ordering = ("weekday", "start")


@admin.register(ProviderProfile)
class ProviderProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "time_zone", "updated_at")
    search_fields = ("user__email", "user__username", "user__full_name")
    list_select_related = ("user",)
    autocomplete_fields = ("user",)
    filter_horizontal = ("products",)
    fields = ("user", "time_zone", "products", "created_at", "updated_at")
    readonly_fields = ("created_at", "updated_at")
    inlines = [WorkingHoursInline]

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "user") if obj is not None else self.readonly_fields

    def save_formset(self, request, form, formset, change):
        if formset.model is not WorkingHours:
            return super().save_formset(request, form, formset, change)
        intervals = [
            {
                "weekday": f.cleaned_data["weekday"],
                "start": f.cleaned_data["start"],
                "end": f.cleaned_data["end"],
            }
            for f in formset.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE") and f.cleaned_data.get("start")
        ]
        try:
            services.working_hours_replace(
                provider=form.instance.user, intervals=intervals, actor=request.user, request=request
            )
        except DomainError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    list_display = ("id", "start", "end", "provider", "customer", "product", "status", "price")
    list_filter = ("status", ("provider", admin.RelatedOnlyFieldListFilter), "start")
    date_hierarchy = "start"
    search_fields = ("customer__email", "provider__email", "notes")
    list_select_related = ("provider", "customer", "product")
    ordering = ("-start", "-id")
    actions = ["confirm_selected", "cancel_selected"]
    readonly_fields = [field.name for field in Booking._meta.fields]
    fields = readonly_fields
    show_full_result_count = False

    def has_add_permission(self, request):
        return False  # bookings are made through the API, under its rules

    def has_delete_permission(self, request, obj=None):
        return False  # cancel instead: the history stays

    def has_confirm_permission(self, request) -> bool:
        return request.user.has_perm("bookings.confirm_booking")

    def _apply(self, request, queryset, transition, done: str, **kwargs) -> None:
        succeeded = 0
        for booking in queryset:
            try:
                transition(booking=booking, actor=request.user, request=request, **kwargs)
            except DomainError as exc:  # who may, and from which status, by the rules
                self.message_user(request, f"{booking}: {' '.join(exc.messages)}", messages.WARNING)
            else:
                succeeded += 1
        if succeeded:
            self.message_user(request, _("%(n)d bookings %(done)s.") % {"n": succeeded, "done": done})

    @admin.action(description=_("Confirm selected bookings"), permissions=["confirm"])
    def confirm_selected(self, request, queryset):
        self._apply(request, queryset, services.booking_confirm, _("confirmed"))

    @admin.action(description=_("Cancel selected bookings"), permissions=["change"])
    def cancel_selected(self, request, queryset):
        self._apply(request, queryset, services.booking_cancel, _("cancelled"), reason="Cancelled by staff.")
