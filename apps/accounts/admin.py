from django.contrib import admin, messages
from django.contrib.admin.utils import display_for_value
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.accounts import services
from apps.accounts.forms import UserChangeForm, UserCreationForm
from apps.accounts.models import (
    AccountDeletion,
    AuthSession,
    SMSCode,
    TwoFactor,
    TwoFactorChallenge,
    TwoFactorMethod,
    User,
)
from apps.core.admin import ReadOnlyModelAdmin, adopt_saved
from apps.core.errors import DomainError


class EmailVerifiedListFilter(admin.SimpleListFilter):
    title = _("email verified")
    parameter_name = "email_verified"

    def lookups(self, request, model_admin):
        return (("yes", _("Yes")), ("no", _("No")))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(email_verified_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(email_verified_at__isnull=True)
        return queryset


# TwoFactor.is_enabled, as a condition on TwoFactor rows.
TWO_FACTOR_ON = Q(totp_enabled_at__isnull=False) | Q(sms_enabled_at__isnull=False)


class TwoFactorListFilter(admin.SimpleListFilter):
    title = _("two-factor")
    parameter_name = "two_factor"

    def lookups(self, request, model_admin):
        return (("on", _("On")), ("off", _("Off")))

    def queryset(self, request, queryset):
        users_with_it = TwoFactor.objects.filter(TWO_FACTOR_ON).values("user")
        if self.value() == "on":
            return queryset.filter(pk__in=users_with_it)
        if self.value() == "off":
            return queryset.exclude(pk__in=users_with_it)
        return queryset


class RoleListFilter(admin.RelatedFieldListFilter):
    """The groups filter, shown as "role"."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = _("role")


def _locked(queryset, **filters):
    """The selected users matching `filters`, locked for the rest of the transaction.

    Re-selected by primary key: the changelist's queryset may carry joins from search or filters.
    """
    return User.objects.select_for_update().filter(pk__in=queryset.values("pk"), **filters).order_by("pk")


# The user page's read-only view of two-factor sign-in: its state, never a secret, hash or code.
TWO_FACTOR_FIELDS = (
    "two_factor_state",
    "two_factor_methods",
    "two_factor_totp_since",
    "two_factor_sms_since",
    "two_factor_recovery_codes_left",
    "two_factor_last_used_at",
    "two_factor_last_used_method",
)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    list_display = (
        "email",
        "username",
        "full_name",
        "is_active",
        "is_staff",
        "email_verified_at",
        "two_factor_on",
        "date_joined",
    )
    list_filter = (
        "is_active",
        "is_staff",
        EmailVerifiedListFilter,
        TwoFactorListFilter,
        ("groups", RoleListFilter),
    )
    search_fields = ("email", "username", "full_name", "phone")
    ordering = ("-date_joined",)
    # phone_verified_at only ever comes from the owner typing back a code; an edited phone clears
    # it (UserChangeForm).
    readonly_fields = (
        "last_login",
        "date_joined",
        "email_verified_at",
        "phone_verified_at",
        *TWO_FACTOR_FIELDS,
    )
    filter_horizontal = ("groups", "user_permissions")

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups":
            kwargs["label"] = _("Roles")
            kwargs["help_text"] = _("The user gets every permission of these roles.")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    actions = ("activate_users", "deactivate_users", "send_password_reset", "reset_two_factor")
    fieldsets = (
        (None, {"fields": ("email", "username", "password")}),
        ("Profile", {"fields": ("full_name", "phone", "phone_verified_at")}),
        (
            "Access",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Two-factor sign-in", {"fields": TWO_FACTOR_FIELDS}),
        ("History", {"fields": ("email_verified_at", "last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "username", "full_name", "usable_password", "password1", "password2"),
            },
        ),
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(two_factor_on=Exists(TwoFactor.objects.filter(TWO_FACTOR_ON, user=OuterRef("pk"))))
        )

    # --- Two-factor sign-in -------------------------------------------------------------------------------
    @admin.display(description=_("Two-factor"), boolean=True, ordering="two_factor_on")
    def two_factor_on(self, obj):
        return obj.two_factor_on

    def _two_factor(self, obj) -> dict:
        # One status per page, however many of its fields the page shows.
        if not hasattr(obj, "_two_factor_status"):
            obj._two_factor_status = services.two_factor_status(obj)
        return obj._two_factor_status

    def _shown(self, value):
        # The admin formats a model field's value, not a method's: do as it does for fields.
        return display_for_value(value, self.get_empty_value_display())

    @admin.display(description=_("two-factor sign-in"))
    def two_factor_state(self, obj):
        status = self._two_factor(obj)
        state = _("On") if status["enabled"] else _("Off")
        return f"{state} ({_('required for staff')})" if status["required"] else state

    @admin.display(description=_("methods"))
    def two_factor_methods(self, obj):
        methods = self._two_factor(obj)["methods"]
        return ", ".join(str(TwoFactorMethod(method).label) for method in methods) or self._shown(None)

    @admin.display(description=_("authenticator app since"))
    def two_factor_totp_since(self, obj):
        return self._shown(self._two_factor(obj)["totp_enabled_at"])

    @admin.display(description=_("text message codes since"))
    def two_factor_sms_since(self, obj):
        return self._shown(self._two_factor(obj)["sms_enabled_at"])

    @admin.display(description=_("recovery codes left"))
    def two_factor_recovery_codes_left(self, obj):
        return self._two_factor(obj)["recovery_codes_left"]

    @admin.display(description=_("last used"))
    def two_factor_last_used_at(self, obj):
        return self._shown(self._two_factor(obj)["last_used_at"])

    @admin.display(description=_("last used with"))
    def two_factor_last_used_method(self, obj):
        method = self._two_factor(obj)["last_used_method"]
        return TwoFactorMethod(method).label if method else self._shown(None)

    # --- Actions ----------------------------------------------------------------------------------------
    @admin.action(description=_("Activate selected users"), permissions=["change"])
    def activate_users(self, request, queryset):
        with transaction.atomic():
            count = 0
            for user in _locked(queryset, is_active=False):
                services.user_activate(user=user, actor=request.user, request=request)
                count += 1
        self.message_user(
            request,
            ngettext("Activated %(count)d user.", "Activated %(count)d users.", count) % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Deactivate selected users"), permissions=["change"])
    def deactivate_users(self, request, queryset):
        try:
            with transaction.atomic():
                count = 0
                skipped_self = False
                for user in _locked(queryset, is_active=True):
                    if user.pk == request.user.pk:
                        skipped_self = True
                        continue
                    services.user_deactivate(user=user, actor=request.user, request=request)
                    count += 1
        except DomainError as exc:  # one refusal (a superuser, for someone who is not) stops them all
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return
        if skipped_self:
            self.message_user(
                request, _("You cannot deactivate your own account; it was skipped."), messages.WARNING
            )
        self.message_user(
            request,
            ngettext("Deactivated %(count)d user.", "Deactivated %(count)d users.", count) % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Send password reset email"), permissions=["change"])
    def send_password_reset(self, request, queryset):
        with transaction.atomic():
            users = list(queryset.filter(is_active=True))
            for user in users:
                services.password_reset_request(email=user.email, request=request)
        count = len(users)
        self.message_user(
            request,
            ngettext(
                "Sent a password reset email to %(count)d user.",
                "Sent a password reset email to %(count)d users.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )
        inactive = queryset.filter(is_active=False).count()
        if inactive:
            self.message_user(
                request,
                ngettext("Skipped %(count)d inactive user.", "Skipped %(count)d inactive users.", inactive)
                % {"count": inactive},
                messages.WARNING,
            )

    def has_two_factor_reset_permission(self, request) -> bool:
        # two_factor_reset refuses anyone else; so the action is not even offered to them.
        return request.user.is_superuser

    @admin.action(description=_("Reset two-factor sign-in"), permissions=["two_factor_reset"])
    def reset_two_factor(self, request, queryset):
        with transaction.atomic():
            count = skipped = 0
            # In primary key order, as every lock of several users is taken.
            for user in User.objects.filter(pk__in=queryset.values("pk")).order_by("pk"):
                if services.two_factor_reset(user=user, actor=request.user, request=request):
                    count += 1
                else:
                    skipped += 1
        self.message_user(
            request,
            ngettext(
                "Reset two-factor sign-in of %(count)d user.",
                "Reset two-factor sign-in of %(count)d users.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "Skipped %(count)d user without two-factor sign-in.",
                    "Skipped %(count)d users without two-factor sign-in.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )

    # --- Writes, through the services -----------------------------------------------------------------
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            # The form passed, the service refused (another save took the address meanwhile): the
            # view's transaction rolled back, and the page comes again with the reason.
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        if change:
            editable = services.ADMIN_EDITABLE_FIELDS
            data = {name: form.cleaned_data[name] for name in form.changed_data if name in editable}
            saved = (
                services.user_admin_update(user=obj, data=data, actor=request.user, request=request)
                if data
                else obj  # "Save" with nothing changed: no write, no audit entry
            )
        else:
            saved = services.user_admin_create(
                email=form.cleaned_data["email"],
                username=form.cleaned_data["username"],
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password1"] if form.cleaned_data["set_usable_password"] else None,
                actor=request.user,
                request=request,
            )
        adopt_saved(obj, saved)

    def save_related(self, request, form, formsets, change):
        """Nothing more: `user_admin_update` wrote the roles and permissions the form changed."""


class SessionStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("live", _("Live")), ("ended", _("Ended")))

    def queryset(self, request, queryset):
        if self.value() == "live":
            return queryset.filter(ended_at__isnull=True)
        if self.value() == "ended":
            return queryset.filter(ended_at__isnull=False)
        return queryset


@admin.register(AuthSession)
class AuthSessionAdmin(ReadOnlyModelAdmin):
    """Sign-in sessions, read-only: staff look them up and end them, nobody edits them."""

    list_display = ["user", "created_at", "last_refreshed_at", "ended_at", "end_reason", "ip"]
    list_filter = [SessionStateFilter, "end_reason", "created_at"]
    search_fields = ["user__email", "user__username", "ip"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "id",
        "user",
        "created_at",
        "last_refreshed_at",
        "ended_at",
        "end_reason",
        "ip",
        "user_agent",
    ]
    actions = ["end_sessions"]

    @admin.action(description=_("End selected sessions"), permissions=["view"])
    def end_sessions(self, request, queryset):
        count = services.sessions_revoke(sessions=queryset, actor=request.user, request=request)
        self.message_user(
            request,
            ngettext("Ended %(count)d session.", "Ended %(count)d sessions.", count) % {"count": count},
            messages.SUCCESS,
        )


@admin.register(TwoFactorChallenge)
class TwoFactorChallengeAdmin(ReadOnlyModelAdmin):
    """The second steps of sign-ins, read-only, to answer "my code is refused" and to see guessing.
    The token's hash is never shown: it finds the row, and is of no use to staff."""

    list_display = fields = readonly_fields = [
        "user",
        "purpose",
        "created_at",
        "expires_at",
        "attempts",
        "failures",
        "sms_sent",
        "used_at",
        "ip",
    ]
    list_filter = ["purpose", "created_at", "used_at"]
    search_fields = ["user__email", "user__username", "ip"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"


@admin.register(SMSCode)
class SMSCodeAdmin(ReadOnlyModelAdmin):
    """Codes texted to verify a number, for sign-in, two-factor changes and password resets,
    read-only, to answer "I never got the code". The code's hash is never shown: it is of no use to
    staff, and a hash of six digits is the code to anyone holding SECRET_KEY."""

    list_display = ["user", "purpose", "phone", "created_at", "sent_at", "expires_at", "attempts", "used_at"]
    list_filter = ["purpose", "created_at", "used_at"]
    search_fields = ["user__email", "user__username", "phone"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    fields = readonly_fields = [
        "user",
        "purpose",
        "challenge",
        "phone",
        "created_at",
        "sent_at",
        "expires_at",
        "attempts",
        "used_at",
    ]


class DeletionStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("pending", _("Pending: can still be reactivated")), ("erased", _("Erased")))

    def queryset(self, request, queryset):
        if self.value() == "pending":
            return queryset.filter(erased_at__isnull=True)
        if self.value() == "erased":
            return queryset.filter(erased_at__isnull=False)
        return queryset


@admin.register(AccountDeletion)
class AccountDeletionAdmin(ReadOnlyModelAdmin):
    """Accounts their owners closed: when each is (or was) erased. Read-only: the owner reactivates
    by email; staff who activate the user call the erasure off."""

    list_display = ["user", "requested_at", "erase_after", "erased_at"]
    list_filter = [DeletionStateFilter, "erase_after"]
    search_fields = ["user__email", "user__username"]
    list_select_related = ["user"]
    date_hierarchy = "erase_after"
    fields = readonly_fields = ["user", "requested_at", "erase_after", "erased_at"]
