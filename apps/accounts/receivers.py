"""Signal receivers: the auth cache forgets a user who changed, and admin-site sign-ins are
recorded as login attempts.

A saved or deleted user is forgotten by the auth cache (apps/accounts/auth_cache.py), whatever
changed: its entry holds the whole row but the password hash; so is a user whose TwoFactor row is
saved or deleted, since the entry also says whether two-factor sign-in is on.

Admin-site sign-ins are login attempts too: record them like API logins.

API logins are recorded by `services.auth_login` (signin.py); Django only sends `user_logged_in` for
session logins (the admin), and `user_login_failed` for every failed `authenticate()`, so
failures are recorded here only when they come from the admin's login form.

An admin sign-in with a second factor is recorded like an API one: the right password as an
ADMIN event with `mfa_pending` (`admin_password_step_record`, as no `login()` follows it), then
the code as its own event, which `sign_in_verify` or `enrolment_confirm` write. The `login()` that ends
such a sign-in adds nothing (`admin_login_recorded`).
"""

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from apps.accounts import auth_cache
from apps.accounts.models import TwoFactor, User
from apps.accounts.services.signin import login_attempt_record
from apps.analytics.models import LoginEvent

_RECORDED = "_admin_login_recorded"


def _from_admin(request) -> bool:
    return request is not None and request.path.startswith("/" + settings.ADMIN_URL)


def admin_password_step_record(*, user, request) -> None:
    """Record a right admin password that goes on to a second factor (or to enrolment)."""
    login_attempt_record(
        email=user.email, user=user, method=LoginEvent.Method.ADMIN, request=request, mfa_pending=True
    )


def admin_login_recorded(request) -> None:
    """Mark `request` as one whose sign-in event is written already, before it calls `login()`."""
    setattr(request, _RECORDED, True)


@receiver(post_save, sender=User, dispatch_uid="accounts.auth_cache_forget_on_save")
@receiver(post_delete, sender=User, dispatch_uid="accounts.auth_cache_forget_on_delete")
def auth_cache_forget_user(sender, instance, **kwargs):
    auth_cache.forget_user(instance.pk)


# The cached user entry says whether a staff member's two-factor sign-in is on (REQUIRE_2FA_FOR_STAFF).
@receiver(post_save, sender=TwoFactor, dispatch_uid="accounts.auth_cache_forget_on_two_factor_save")
@receiver(post_delete, sender=TwoFactor, dispatch_uid="accounts.auth_cache_forget_on_two_factor_delete")
def auth_cache_forget_two_factor(sender, instance, **kwargs):
    auth_cache.forget_user(instance.user_id)


@receiver(user_logged_in, dispatch_uid="accounts.record_admin_login")
def record_admin_login(sender, request, user, **kwargs):
    if _from_admin(request) and not getattr(request, _RECORDED, False):
        login_attempt_record(email=user.email, user=user, method=LoginEvent.Method.ADMIN, request=request)


@receiver(user_login_failed, dispatch_uid="accounts.record_admin_login_failure")
def record_admin_login_failure(sender, credentials, request=None, **kwargs):
    if _from_admin(request):
        email = credentials.get("username") or credentials.get("email") or ""
        login_attempt_record(email=email, user=None, method=LoginEvent.Method.ADMIN, request=request)
