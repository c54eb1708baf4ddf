import math

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.template.response import TemplateResponse

from apps.core.throttles import LoginFailureThrottle, LoginThrottle


class AdminSite(admin.AdminSite):
    """The admin site, with the API's sign-in limits on its login form.

    Staff accounts are the most valuable ones to guess, so the same limits apply here as on
    auth/login/: attempts per IP, and failed attempts per IP and email.
    """

    site_header = f"{settings.SITE_NAME} administration"
    site_title = f"{settings.SITE_NAME} admin"

    def login(self, request, extra_context=None):
        if request.method != "POST":
            return super().login(request, extra_context)
        throttles = [LoginThrottle(), LoginFailureThrottle()]
        refused = [throttle for throttle in throttles if not throttle.allow_request(request, None)]
        if refused:
            wait = math.ceil(max(throttle.wait() or 1 for throttle in refused))
            response = TemplateResponse(
                request,
                "admin/login_throttled.html",
                {**self.each_context(request), "title": "Too many attempts", "wait": wait},
                status=429,
            )
            response["Retry-After"] = str(wait)
            return response
        reserved = LoginFailureThrottle.reserve(request)
        response = super().login(request, extra_context)
        if request.user.is_authenticated:
            LoginFailureThrottle.release(request, reserved)  # signed in: not a failure
        return response


class AdminConfig(DjangoAdminConfig):
    """django.contrib.admin, with this AdminSite as `admin.site` (see INSTALLED_APPS)."""

    default_site = "apps.core.admin_site.AdminSite"
