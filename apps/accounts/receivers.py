"""Admin-site sign-ins are login attempts too: record them like API logins.

API logins are recorded by `services.auth_login`; Django only sends `user_logged_in` for
session logins (the admin), and `user_login_failed` for every failed `authenticate()`, so
failures are recorded here only when they come from the admin's login form.
"""

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from apps.accounts.services.sessions import login_record
from apps.analytics.models import LoginEvent


def _from_admin(request) -> bool:
    return request is not None and request.path.startswith("/" + settings.ADMIN_URL)


@receiver(user_logged_in, dispatch_uid="accounts.record_admin_login")
def record_admin_login(sender, request, user, **kwargs):
    if _from_admin(request):
        login_record(email=user.email, user=user, method=LoginEvent.Method.ADMIN, request=request)


@receiver(user_login_failed, dispatch_uid="accounts.record_admin_login_failure")
def record_admin_login_failure(sender, credentials, request=None, **kwargs):
    if _from_admin(request):
        email = credentials.get("username") or credentials.get("email") or ""
        login_record(email=email, user=None, method=LoginEvent.Method.ADMIN, request=request)
