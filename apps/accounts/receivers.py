"""Admin-site sign-ins are login attempts too: record them like API logins.

API logins are recorded by `services.auth_login`; Django only sends `user_logged_in` for
session logins (the admin), and `user_login_failed` for every failed `authenticate()`, so
failures are recorded here only when they come from the admin's login form.
"""

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from apps.analytics.models import LoginEvent
from apps.analytics.services import record_login
from apps.logs.services import client_ip


def _from_admin(request) -> bool:
    return request is not None and request.path.startswith("/" + settings.ADMIN_URL)


@receiver(user_logged_in, dispatch_uid="accounts.record_admin_login")
def record_admin_login(sender, request, user, **kwargs):
    if _from_admin(request):
        record_login(
            email=user.email,
            success=True,
            method=LoginEvent.Method.ADMIN,
            user_id=user.pk,
            ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )


@receiver(user_login_failed, dispatch_uid="accounts.record_admin_login_failure")
def record_admin_login_failure(sender, credentials, request=None, **kwargs):
    if _from_admin(request):
        record_login(
            email=credentials.get("username") or credentials.get("email") or "",
            success=False,
            method=LoginEvent.Method.ADMIN,
            ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
