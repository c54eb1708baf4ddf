from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.tokens import AccessToken

from apps.accounts.jwt import access_token_user, token_decode


class JWTAuthentication(authentication.JWTAuthentication):
    """SimpleJWT's bearer-token authentication, with sessions (see apps/accounts/jwt.py): a token
    of an ended session is refused, and an expired token says so with its own code."""

    def get_validated_token(self, raw_token: bytes) -> AccessToken:
        return token_decode(raw_token, AccessToken)

    def get_user(self, validated_token: AccessToken):
        return access_token_user(validated_token)


class JWTAuthenticationScheme(SimpleJWTScheme):
    """The OpenAPI security scheme of this class: SimpleJWT's bearer JWT."""

    target_class = "apps.accounts.authentication.JWTAuthentication"
