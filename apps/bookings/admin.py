"""Bookings in the admin. Every write goes through apps/bookings/services, as the API's do.

Bookings are read-only here (they are made and moved through the API, under its rules); the
"Confirm" and "Cancel" actions call the same services, so they are checked, audited and tell both
parties. A provider's working hours are edited inline on their profile and saved as a whole by
`working_hours_replace`, the service behind `PUT providers/me/working-hours/`; the profile itself
is saved by the services behind `POST providers/` (adding one makes its user a provider) and
`PATCH providers/me/`.
Their days off and changed hours are inline there too, each saved by the service behind
`providers/me/schedule-exceptions/`: the bookings one leaves outside working time are listed in a
warning (and the provider is sent the same list); none is cancelled.
"""

import re
from datetime import time

from django import forms
from django.contrib import admin, messages
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from apps.bookings import selectors, services
from apps.bookings.models import Booking, ProviderProfile, ScheduleException, WorkingHours
from apps.bookings.selectors import provider_zone
from apps.bookings.services.schedule import working_hours_check
from apps.bookings.services.schedule_exceptions import ClockInterval, ScheduleExceptionSaved
from apps.core.errors import DomainError
from apps.products.selectors import products_on_sale


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


class ProviderProfileForm(forms.ModelForm):
    """Adding a profile makes its user a provider: what the service would refuse about that (an
    inactive user, a role the signed-in staff member may not give) is a form error before any save."""

    actor = None  # the signed-in staff member, set per request by ProviderProfileAdmin.get_form

    def clean(self):
        cleaned = super().clean()
        user = cleaned.get("user")
        if self.instance._state.adding and user is not None:
            try:
                services.provider_make_check(user=user, actor=self.actor)
            except DomainError as exc:
                raise forms.ValidationError(exc.messages) from exc
        return cleaned


HOURS_TEXT = re.compile(r"^\s*(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*$")


def parse_hours(text: str) -> list[ClockInterval]:
    """`09:00-12:00, 13:00-17:00` as intervals; ValidationError naming the part it cannot read."""
    intervals: list[ClockInterval] = []
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        match = HOURS_TEXT.match(part)
        try:
            start, end = (time.fromisoformat(value.zfill(5)) for value in match.groups())
        except (AttributeError, ValueError):  # no match, or no such time (25:00)
            raise forms.ValidationError(
                _("Cannot read %(part)s: give HH:MM-HH:MM, separated by commas.") % {"part": part}
            ) from None
        intervals.append({"start": start, "end": end})
    return intervals


class ScheduleExceptionForm(forms.ModelForm):
    hours = forms.CharField(
        required=False,
        help_text=_("For changed hours: e.g. 09:00-12:00, 13:00-17:00 (each on the same day)."),
    )

    class Meta:
        model = ScheduleException
        fields = ("start_date", "end_date", "kind", "note")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["end_date"].required = False
        if self.instance.pk:
            rows = self.instance.intervals
            self.initial["hours"] = ", ".join(f"{row['start']}-{row['end']}" for row in rows)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start_date") and not cleaned.get("end_date"):
            cleaned["end_date"] = cleaned["start_date"]  # one day, as in the API
        return cleaned

    def clean_hours(self) -> list[ClockInterval]:
        return parse_hours(self.cleaned_data.get("hours") or "")


class ScheduleExceptionFormSet(BaseInlineFormSet):
    """A profile form posted without this section (a script that edits the working hours, a page
    from before exceptions existed) leaves the exceptions as they are, instead of failing on the
    missing management form."""

    def __init__(self, data=None, *args, **kwargs):
        prefix = kwargs.get("prefix") or self.get_default_prefix()
        if data is not None and f"{prefix}-TOTAL_FORMS" not in data:
            data = data.copy()
            data[f"{prefix}-TOTAL_FORMS"] = data[f"{prefix}-INITIAL_FORMS"] = "0"
        super().__init__(data, *args, **kwargs)


class ScheduleExceptionInline(admin.TabularInline):
    model = ScheduleException
    form = ScheduleExceptionForm
    formset = ScheduleExceptionFormSet
    fields = ("start_date", "end_date", "kind", "hours", "note")
    extra = 0
    ordering = ("-start_date",)


@admin.register(ProviderProfile)
class ProviderProfileAdmin(admin.ModelAdmin):
    """As the API: adding a profile is `POST providers/` (the provider role, kept alongside the
    user's others), saving one is `PATCH providers/me/`'s service, "Stop being providers" is
    `DELETE providers/{id}/`. Only products on sale can be chosen."""

    form = ProviderProfileForm
    list_display = ("user", "is_provider", "time_zone", "updated_at")
    list_filter = ("time_zone",)
    search_fields = ("user__email", "user__username", "user__full_name")
    list_select_related = ("user",)
    autocomplete_fields = ("user",)
    filter_horizontal = ("products",)
    fields = ("user", "time_zone", "products", "created_at", "updated_at")
    readonly_fields = ("created_at", "updated_at")
    inlines = [WorkingHoursInline, ScheduleExceptionInline]
    actions = ["stop_being_providers"]

    def get_queryset(self, request):
        return selectors.provider_profiles()

    @admin.display(boolean=True, description=_("provider now"), ordering="is_provider")
    def is_provider(self, profile) -> bool:
        return profile.is_provider

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "user") if obj is not None else self.readonly_fields

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)  # a class made for this request
        form.actor = request.user
        return form

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "products":
            kwargs["queryset"] = products_on_sale().order_by("name", "id")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_add_permission(self, request):
        return super().has_add_permission(request) and self.has_manage_providers_permission(request)

    def has_manage_providers_permission(self, request) -> bool:
        return request.user.has_perm(selectors.MANAGE_PROVIDERS)

    def save_model(self, request, obj, form, change):
        service_ids = [product.pk for product in form.cleaned_data.get("products", [])]
        try:
            if change:
                services.provider_profile_update(
                    provider=obj.user,
                    time_zone=obj.time_zone,
                    service_ids=service_ids,
                    actor=request.user,
                    request=request,
                )
            else:
                services.provider_make(
                    user_id=obj.user_id,
                    time_zone=obj.time_zone,
                    service_ids=service_ids,
                    actor=request.user,
                    request=request,
                )
        except DomainError as exc:  # only if something changed since the form was checked
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return
        obj.refresh_from_db()
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        # The products were set by the service in save_model; the working hours go to theirs.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change):
        if formset.model is ScheduleException:
            return self._save_exceptions(request, form.instance, formset)
        if formset.model is not WorkingHours:
            return super().save_formset(request, form, formset, change)
        if form.instance._state.adding:
            return None  # the profile was not made (see the message)
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

    @admin.action(
        description=_("Stop being providers (keeps their profiles)"), permissions=["manage_providers"]
    )
    def stop_being_providers(self, request, queryset):
        stopped = 0
        for profile in queryset:
            try:
                services.provider_remove(provider=profile.user, actor=request.user, request=request)
            except DomainError as exc:  # bookings still to come, or not a provider now
                self.message_user(request, f"{profile}: {' '.join(exc.messages)}", messages.WARNING)
            else:
                stopped += 1
        if stopped:
            self.message_user(request, _("%(n)d users are no longer providers.") % {"n": stopped})

    def _save_exceptions(self, request, profile, formset) -> None:
        """Each added, changed or deleted row through its service, one at a time: a refused row is
        an error message and the others still save."""
        for f in formset.forms:
            data = f.cleaned_data
            if not data or not (f.has_changed() or data.get("DELETE")):
                continue  # an empty extra row, or a row left as it was
            try:
                if data.get("DELETE"):
                    if f.instance.pk:
                        services.schedule_exception_delete(
                            exception=f.instance, actor=request.user, request=request
                        )
                    continue
                fields = {
                    "start_date": data["start_date"],
                    "end_date": data.get("end_date") or data["start_date"],
                    "kind": data["kind"],
                    "intervals": data.get("hours") or [],
                    "note": data.get("note", ""),
                }
                if f.instance.pk:
                    saved = services.schedule_exception_update(
                        exception=f.instance, data=fields, actor=request.user, request=request
                    )
                else:
                    saved = services.schedule_exception_create(
                        provider=profile.user, **fields, actor=request.user, request=request
                    )
            except DomainError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
                continue
            self._report_conflicts(request, saved)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def _report_conflicts(self, request, saved: ScheduleExceptionSaved) -> None:
        if not saved.conflicts:
            return
        tz = provider_zone(saved.exception.provider.user)
        listed = "; ".join(
            f"#{booking.pk} {booking.start.astimezone(tz):%Y-%m-%d %H:%M}-{booking.end.astimezone(tz):%H:%M}"
            for booking in saved.conflicts
        )
        self.message_user(
            request,
            _("%(exception)s: these active bookings fall outside working time and were kept: %(list)s.")
            % {"exception": saved.exception, "list": listed},
            messages.WARNING,
        )


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
