"""Bookings in the admin. Every write goes through apps/bookings/services, as the API's do.

Bookings are read-only here (they are made and moved through the API, under its rules); the
"Confirm" and "Cancel" actions call the same services, so they are checked, audited and tell both
parties. A provider's working hours are edited inline on their profile and saved as a whole by
`working_hours_replace`, the service behind `PUT providers/me/working-hours/`; the profile itself
is saved by the services behind `POST providers/` (adding one makes its user a provider) and
`PATCH providers/me/`.
"""

from django import forms
from django.contrib import admin, messages
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from apps.bookings import selectors, services
from apps.bookings.models import Booking, ProviderProfile, WorkingHours
from apps.bookings.services.schedule import working_hours_check
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
    inlines = [WorkingHoursInline]
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
