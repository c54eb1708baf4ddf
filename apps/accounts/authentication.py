from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import SAFE_METHODS
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import AccessToken

from apps.accounts.jwt import access_token_decode, access_token_user
from apps.accounts.models import TwoFactorChallenge

_BEARER_SCHEMES = frozenset(scheme.lower().encode("latin-1") for scheme in jwt_settings.AUTH_HEADER_TYPES)


class BadAuthorizationHeader(AuthenticationFailed):
    default_detail = _("The Authorization header must be `Bearer <token>`.")
    default_code = "bad_authorization_header"


class JWTAuthentication(authentication.JWTAuthentication):
    """SimpleJWT's bearer-token authentication, with sessions (see apps/accounts/jwt.py): a token
    of an ended session is refused, and an expired token says so with its own code. A read takes
    the user and the session state from the cache when it has them, in the round trip that also
    counts it in the general throttles; a write reads the database.

    The scheme is case-insensitive (`bearer` is `Bearer`, RFC 9110 section 11.1). A header of any
    other scheme is a 401 `bad_authorization_header`, not a silent "no credentials", unless another
    authenticator of the same view takes that scheme (`MFA` on the enrolment endpoints).
    """

    read_request = None
    other_schemes: frozenset[bytes] = frozenset()

    def authenticate(self, request):
        # DRF makes the authenticators for each request, so this is the request's own state.
        self.read_request = request if request.method in SAFE_METHODS else None
        self.other_schemes = frozenset(
            keyword.lower()
            for authenticator in request.authenticators
            if authenticator is not self and (keyword := getattr(authenticator, "keyword", None))
        )
        return super().authenticate(request)

    def get_raw_token(self, header: bytes) -> bytes | None:
        parts = header.split()
        if not parts:
            return None
        scheme = parts[0].lower()
        if scheme not in _BEARER_SCHEMES:
            if scheme in self.other_schemes:
                return None
            raise BadAuthorizationHeader()
        if len(parts) != 2:
            raise BadAuthorizationHeader()
        return parts[1]

    def get_validated_token(self, raw_token: bytes) -> AccessToken:
        return access_token_decode(raw_token)

    def get_user(self, validated_token: AccessToken):
        read = self.read_request
        return access_token_user(validated_token, cached=read is not None, request=read)


class JWTAuthenticationScheme(SimpleJWTScheme):
    """The OpenAPI security scheme of this class: SimpleJWT's bearer JWT."""

    target_class = "apps.accounts.authentication.JWTAuthentication"


class TwoFactorEnrolmentAuthentication(BaseAuthentication):
    """`Authorization: MFA <mfa_token>`: the token of the enrolment challenge a staff member gets at
    sign-in while REQUIRE_2FA_FOR_STAFF holds and their two-factor sign-in is off. Only the TOTP
    setup and confirm endpoints list it; `request.auth` is the `TwoFactorChallenge`."""

    keyword = b"mfa"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None  # not ours: a bearer token, or nothing
        if len(parts) != 2:
            raise AuthenticationFailed(
                _("The Authorization header must be `MFA <mfa_token>`."), code="bad_authorization_header"
            )
        # Imported here: DRF imports this module while its own settings load, before the
        # exception module the services need can be imported.
        from apps.accounts.services.signin import TwoFactorTokenInvalid, challenge_of

        challenge = challenge_of(parts[1].decode("latin-1"), purpose=TwoFactorChallenge.Purpose.ENROL)
        if challenge is None:
            # DRF's own error, as an authenticator must raise (a domain error would skip DRF's
            # bookkeeping of the failed authentication); same code and message.
            refusal = TwoFactorTokenInvalid()
            raise AuthenticationFailed(refusal.message, code=refusal.code)
        return challenge.user, challenge

    def authenticate_header(self, request) -> str:
        return 'MFA realm="api"'


class TwoFactorEnrolmentScheme(OpenApiAuthenticationExtension):
    target_class = "apps.accounts.authentication.TwoFactorEnrolmentAuthentication"
    name = "mfaEnrolment"  # the published name of the scheme in the OpenAPI schema

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`MFA <mfa_token>`: the enrolment token of a 403 `mfa_enrolment_required` "
            "from `auth/login/`.",
        }
