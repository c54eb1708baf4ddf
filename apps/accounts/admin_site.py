"""The admin site: the API's sign-in limits on its login form, and its second factor.

The admin signs in with the API's steps (apps/accounts/services/signin.py). A right password does
not sign in an account with two-factor sign-in on: the token of the challenge `second_step_start`
makes goes into the session (never into a URL, where logs and the Referer header would keep it)
and the browser to `login/verify/`, which takes a code of any of the account's methods
(`sign_in_verify`). A staff member who must turn two-factor sign-in on first (REQUIRE_2FA_FOR_STAFF)
goes to `login/enrol/` instead, which sets up an authenticator app (`totp_setup`,
`enrolment_confirm`). Only a right code calls `login()`. Every step takes the login limit per IP;
the services count wrong codes per challenge and per account, and refuse with a `DomainError`,
whose messages the page shows.

REQUIRE_2FA_FOR_STAFF is also checked on every admin request (`has_permission`), not only at sign-in:
a browser signed in before the setting, before a promotion to staff or before its user turned
two-factor sign-in off no longer opens the admin; the login page signs it out, and the password
leads to enrolment.

This module is imported when `admin.site` is first used (apps/accounts/admin_apps.py names it),
once every model is loaded.
"""

import math
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import LoginView
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from apps.accounts.jwt import two_factor_missing
from apps.accounts.models import TwoFactorChallenge
from apps.accounts.receivers import admin_login_recorded, admin_password_step_record
from apps.accounts.services.signin import (
    TwoFactorTokenInvalid,
    challenge_of,
    enrolment_confirm,
    second_step_start,
    sign_in_sms_send,
    sign_in_verify,
)
from apps.accounts.services.two_factor import totp_setup
from apps.accounts.throttles import LoginFailureThrottle, LoginThrottle
from apps.core import errors

# The half-signed-in state between the password and the code: the challenge's token and where to
# go next. Its keys are stored in sessions, so they keep their names ("mfa_token").
SECOND_STEP_SESSION_KEY = "admin_second_step"
_TWO_FACTOR_MISSING = "_admin_two_factor_missing"  # the answer, kept on the request

CODE_HINTS = {
    "totp": gettext_lazy("the code your authenticator app shows"),
    "sms": gettext_lazy("a code we text you"),
    "recovery": gettext_lazy("one of your recovery codes"),
}


class SecondFactorForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=32,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autocapitalize": "none",
                "spellcheck": "false",
                "autofocus": True,
            }
        ),
    )


class AuthenticatorCodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code from the app"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


def _code_step(view):
    """A step of sign-in after the password: open to the signed-out, CSRF-checked, never cached,
    and its code kept out of error reports."""
    for decorator in (
        login_not_required,
        method_decorator(never_cache),
        method_decorator(csrf_protect),
        method_decorator(sensitive_post_parameters("code")),
    ):
        view = decorator(view)
    return view


class AdminLoginView(LoginView):
    """Django's LoginView, stopping after the password when a second factor is due."""

    site = None

    def form_valid(self, form):
        second_step = self.site.second_step_start(self.request, form.get_user(), self.get_redirect_url())
        return second_step or super().form_valid(form)


class AdminSite(admin.AdminSite):
    """The admin site, with the API's sign-in limits on its login form and two-factor sign-in.

    Staff accounts are the most valuable ones to guess, so the same limits apply here as on
    auth/login/: attempts per IP, and failed attempts per IP and email.
    """

    site_header = f"{settings.SITE_NAME} administration"
    site_title = f"{settings.SITE_NAME} admin"

    def get_urls(self):
        return [
            path("login/verify/", self.login_verify, name="login_verify"),
            path("login/enrol/", self.login_enrol, name="login_enrol"),
            *super().get_urls(),
        ]

    def has_permission(self, request) -> bool:
        return super().has_permission(request) and not self._two_factor_missing(request)

    def _two_factor_missing(self, request) -> bool:
        """Whether REQUIRE_2FA_FOR_STAFF shuts this signed-in staff member out until they turn
        two-factor sign-in on; asked once per request (a page asks has_permission several times)."""
        if not hasattr(request, _TWO_FACTOR_MISSING):
            user = request.user
            setattr(request, _TWO_FACTOR_MISSING, user.is_authenticated and two_factor_missing(user))
        return getattr(request, _TWO_FACTOR_MISSING)

    # --- The password ---------------------------------------------------------------------------------
    @method_decorator(never_cache)
    @login_not_required
    def login(self, request, extra_context=None):
        if request.user.is_authenticated and self._two_factor_missing(request):
            # A session from before the rule: out, so that the password leads to enrolment.
            auth_logout(request)
            messages.warning(
                request, _("Staff accounts must turn on two-factor sign-in; sign in again to set it up.")
            )
            return HttpResponseRedirect(request.get_full_path())
        if request.method != "POST":
            return self._password_form(request, extra_context)
        refused = self._throttled(request, [LoginThrottle(), LoginFailureThrottle()])
        if refused is not None:
            return refused
        # A new password abandons any second step this browser was half-way through, so a state
        # found in the session after the form ran is this password's.
        request.session.pop(SECOND_STEP_SESSION_KEY, None)
        reserved = LoginFailureThrottle.reserve(request)
        response = self._password_form(request, extra_context)
        if request.user.is_authenticated or SECOND_STEP_SESSION_KEY in request.session:
            LoginFailureThrottle.release(request, reserved)  # the password was right: not a failure
        return response

    def _password_form(self, request, extra_context):
        # Django's AdminSite.login, with a LoginView that can stop after the password.
        if request.method == "GET" and self.has_permission(request):
            return HttpResponseRedirect(reverse("admin:index", current_app=self.name))
        context = {
            **self.each_context(request),
            "title": _("Log in"),
            "subtitle": None,
            "app_path": request.get_full_path(),
            "username": request.user.get_username(),
        }
        if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
            context[REDIRECT_FIELD_NAME] = reverse("admin:index", current_app=self.name)
        context.update(extra_context or {})
        request.current_app = self.name
        return AdminLoginView.as_view(
            extra_context=context,
            authentication_form=self.login_form or AdminAuthenticationForm,
            template_name=self.login_template or "admin/login.html",
            site=self,
        )(request)

    def second_step_start(self, request, user, next_url: str) -> HttpResponseRedirect | None:
        """After a right password: None to sign in now, else the way to the second step."""
        second_step = second_step_start(user=user, request=request)
        if second_step is None:
            return None
        admin_password_step_record(user=user, request=request)
        # A session key of its own for the half-signed-in state, as login() gives the signed-in one.
        request.session.cycle_key()
        request.session[SECOND_STEP_SESSION_KEY] = {
            "mfa_token": second_step.token,
            "purpose": second_step.purpose,
            "methods": second_step.methods,
            "backend": user.backend,
            "next": next_url,
        }
        return self._step_of(request.session[SECOND_STEP_SESSION_KEY])

    # --- The code -------------------------------------------------------------------------------------
    @_code_step
    def login_verify(self, request):
        """The second step of a sign-in: a code of the app, a texted one, or a recovery code."""
        state = request.session.get(SECOND_STEP_SESSION_KEY)
        if state is None or state["purpose"] != TwoFactorChallenge.Purpose.SIGN_IN:
            return self._step_of(state)
        token = state["mfa_token"]
        form = SecondFactorForm(request.POST or None)
        if request.method == "POST":
            refused = self._throttled(request, [LoginThrottle()])
            if refused is not None:
                return refused
            if "send_sms" in request.POST:
                try:
                    sign_in_sms_send(challenge_token=token, request=request)
                except TwoFactorTokenInvalid:
                    return self._start_again(request, state, _("This sign-in has expired; sign in again."))
                except errors.DomainError as exc:  # a text budget spent, among others
                    messages.error(request, " ".join(exc.messages))
                else:
                    messages.success(request, _("We are texting a code to your phone."))
                return HttpResponseRedirect(request.path)
            if form.is_valid():
                try:
                    user, _method, _tokens = sign_in_verify(
                        challenge_token=token, code=form.cleaned_data["code"], request=request
                    )
                except TwoFactorTokenInvalid:
                    return self._start_again(request, state, _("This sign-in has expired; sign in again."))
                except errors.RateLimited as exc:
                    return self._too_many(request, exc.wait or 1)
                except errors.DomainError as exc:
                    refusal = exc.messages
                    # None: that was its last try.
                    if challenge_of(token, purpose=TwoFactorChallenge.Purpose.SIGN_IN) is None:
                        return self._start_again(request, state, " ".join(refusal))
                    for message in refusal:
                        form.add_error("code", message)
                else:
                    self._sign_in(request, user, state)
                    return HttpResponseRedirect(self._next_url(request, state))
        elif challenge_of(token, purpose=TwoFactorChallenge.Purpose.SIGN_IN) is None:
            return self._start_again(request, state, _("This sign-in has expired; sign in again."))
        hints = [CODE_HINTS[method] for method in state["methods"] if method in CODE_HINTS]
        return self._step_page(
            request,
            "admin/login_verify.html",
            title=_("Two-factor sign-in"),
            form=form,
            hint=_("Enter {codes}.").format(codes=_joined(hints)) if hints else "",
            can_text="sms" in state["methods"],
            state=state,
        )

    @_code_step
    def login_enrol(self, request):
        """Turning on an authenticator app, which REQUIRE_2FA_FOR_STAFF asks before staff get in."""
        state = request.session.get(SECOND_STEP_SESSION_KEY)
        if state is None or state["purpose"] != TwoFactorChallenge.Purpose.ENROL:
            return self._step_of(state)
        challenge = challenge_of(state["mfa_token"], purpose=TwoFactorChallenge.Purpose.ENROL)
        if challenge is None:
            return self._start_again(request, state, _("This sign-in has expired; sign in again."))
        refused = self._throttled(request, [LoginThrottle()])  # a GET writes too: a new secret
        if refused is not None:
            return refused
        setup = None
        if request.method == "POST":
            form = AuthenticatorCodeForm(request.POST)
            if form.is_valid():
                try:
                    result = enrolment_confirm(
                        challenge=challenge,
                        code=form.cleaned_data["code"],
                        request=request,
                        issue_tokens=False,
                    )
                except TwoFactorTokenInvalid:
                    return self._start_again(request, state, _("This sign-in has expired; sign in again."))
                except errors.DomainError as exc:
                    refusal = exc.messages
                    if challenge_of(state["mfa_token"], purpose=TwoFactorChallenge.Purpose.ENROL) is None:
                        return self._start_again(request, state, " ".join(refusal))
                    for message in refusal:
                        form.add_error("code", message)
                else:
                    self._sign_in(request, challenge.user, state)
                    next_url = self._next_url(request, state)
                    if not result.get("recovery_codes"):
                        return HttpResponseRedirect(next_url)
                    # Shown in this answer only: the codes are kept nowhere a reload could find them.
                    return TemplateResponse(
                        request,
                        "admin/login_recovery_codes.html",
                        {
                            **self.each_context(request),
                            "title": _("Your recovery codes"),
                            "recovery_codes": result["recovery_codes"],
                            "next_url": next_url,
                        },
                    )
        else:
            form = AuthenticatorCodeForm()
            try:
                setup = totp_setup(user=challenge.user, request=request)
            except errors.Conflict:
                return self._start_again(
                    request, state, _("Two-factor sign-in is on for this account now; sign in again.")
                )
        return self._step_page(
            request,
            "admin/login_enrol.html",
            title=_("Turn on two-factor sign-in"),
            form=form,
            setup=setup,
            state=state,
        )

    # --- Pieces ---------------------------------------------------------------------------------------
    def _sign_in(self, request, user, state: dict) -> None:
        del request.session[SECOND_STEP_SESSION_KEY]
        admin_login_recorded(request)  # the code's own event is the sign-in's record
        auth_login(request, user, backend=state["backend"])

    def _next_url(self, request, state: dict) -> str:
        # LoginView checked it at the password step; a session outlives a change of ALLOWED_HOSTS.
        url = state.get("next") or ""
        if url_has_allowed_host_and_scheme(
            url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return url
        return reverse("admin:index", current_app=self.name)

    def _login_url(self, state: dict | None) -> str:
        url = reverse("admin:login", current_app=self.name)
        if state and state.get("next"):
            url += "?" + urlencode({REDIRECT_FIELD_NAME: state["next"]})
        return url

    def _start_again(self, request, state: dict, message: str) -> HttpResponseRedirect:
        request.session.pop(SECOND_STEP_SESSION_KEY, None)
        messages.error(request, message)
        return HttpResponseRedirect(self._login_url(state))

    def _step_of(self, state: dict | None) -> HttpResponseRedirect:
        """Where a browser that asked for the wrong step belongs: its own step, or the password."""
        if state is None:
            return HttpResponseRedirect(reverse("admin:login", current_app=self.name))
        step = (
            "admin:login_enrol"
            if state["purpose"] == TwoFactorChallenge.Purpose.ENROL
            else "admin:login_verify"
        )
        return HttpResponseRedirect(reverse(step, current_app=self.name))

    def _step_page(self, request, template: str, *, title: str, state: dict, **context) -> TemplateResponse:
        request.current_app = self.name
        return TemplateResponse(
            request,
            template,
            {
                **self.each_context(request),
                "title": title,
                "subtitle": None,
                "app_path": request.get_full_path(),
                "start_again_url": self._login_url(state),
                **context,
            },
        )

    def _throttled(self, request, throttles) -> TemplateResponse | None:
        """The 429 page when any of `throttles` refuses this request; None when all allow it."""
        refused = [throttle for throttle in throttles if not throttle.allow_request(request, None)]
        if not refused:
            return None
        return self._too_many(request, max(throttle.wait() or 1 for throttle in refused))

    def _too_many(self, request, wait: float) -> TemplateResponse:
        wait = math.ceil(wait)
        response = TemplateResponse(
            request,
            "admin/login_throttled.html",
            {**self.each_context(request), "title": _("Too many attempts"), "wait": wait},
            status=429,
        )
        response["Retry-After"] = str(wait)
        return response


def _joined(parts: list) -> str:
    """`a`, `a or b`, `a, b or c`."""
    if len(parts) == 1:
        return str(parts[0])
    return _("{first} or {last}").format(first=", ".join(str(part) for part in parts[:-1]), last=parts[-1])
