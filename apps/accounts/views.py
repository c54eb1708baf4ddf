from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from apps.accounts import selectors, services
from apps.accounts.authentication import JWTAuthentication
from apps.accounts.filters import UserFilter
from apps.accounts.serializers import (
    EmailChangeConfirmSerializer,
    EmailChangeSerializer,
    EmailVerifySerializer,
    LoginSerializer,
    PasswordChangeSerializer,
    PasswordConfirmSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
    PhoneChangePendingSerializer,
    PhoneChangeSerializer,
    PhoneVerifySerializer,
    ProfileUpdateSerializer,
    RefreshSerializer,
    RegisterSerializer,
    StaffUserUpdateSerializer,
    TokenPairSerializer,
    UserSerializer,
)
from apps.core.api import GenericViewSet, public_action, validated
from apps.core.throttles import (
    EmailVerificationResendThrottle,
    LoginFailureThrottle,
    LoginThrottle,
    PasswordCheckThrottle,
    PasswordResetConfirmThrottle,
    PasswordResetThrottle,
    PhoneVerificationThrottle,
    RegisterThrottle,
)
from apps.roles import services as role_services
from apps.roles.serializers import UserRolesSerializer

NO_CONTENT = OpenApiResponse(description="Done; no body.")
ACCEPTED = OpenApiResponse(description="Accepted; an email is on its way if the request applies.")


@extend_schema(tags=["auth"])
class AuthViewSet(GenericViewSet):
    """Sign-in, tokens, registration, password and email flows."""

    action_permissions = {
        "logout": [],
        "logout_all": [],
        "password_change": [],
        "email_verification_resend": [],
        "email_change": [],
    }

    def get_authenticate_header(self, request):
        # Public actions run no authenticator; without this header DRF would turn their 401s
        # (wrong password, dead refresh token) into 403s.
        return JWTAuthentication().authenticate_header(request)

    @extend_schema(request=RegisterSerializer, responses={201: UserSerializer}, summary="Create an account")
    @public_action(detail=False, methods=["post"], throttle_classes=[RegisterThrottle])
    def register(self, request):
        data = validated(RegisterSerializer, request)
        user = services.user_register(**data, request=request)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=LoginSerializer, responses={200: TokenPairSerializer}, summary="Sign in")
    @public_action(detail=False, methods=["post"], throttle_classes=[LoginThrottle, LoginFailureThrottle])
    def login(self, request):
        data = validated(LoginSerializer, request)
        reserved = LoginFailureThrottle.reserve(request)
        _, tokens = services.auth_login(email=data["email"], password=data["password"], request=request)
        LoginFailureThrottle.release(request, reserved)  # the password was right: not a failure
        return Response(tokens)

    @extend_schema(request=RefreshSerializer, responses={200: TokenPairSerializer}, summary="Rotate tokens")
    @public_action(detail=False, methods=["post"], url_path="token/refresh")
    def token_refresh(self, request):
        data = validated(RefreshSerializer, request)
        return Response(services.token_refresh(refresh=data["refresh"], request=request))

    @extend_schema(
        request=RefreshSerializer,
        responses={204: NO_CONTENT},
        summary="Sign out",
        description="Ends the session of `refresh` and of the access token used: every token of "
        "them stops working at once. A dead or someone else's refresh token is a 401.",
    )
    @action(detail=False, methods=["post"])
    def logout(self, request):
        data = validated(RefreshSerializer, request)
        services.auth_logout(user=request.user, refresh=data["refresh"], request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None,
        responses={204: NO_CONTENT},
        summary="Sign out everywhere",
        description="Ends every session of the account: every token issued until now stops working.",
    )
    @action(detail=False, methods=["post"], url_path="logout/all")
    def logout_all(self, request):
        services.auth_logout_all(user=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=PasswordChangeSerializer,
        responses={200: TokenPairSerializer},
        summary="Change password",
        description="Ends every session, this one included, and answers a fresh token pair for this "
        "client, so the caller stays signed in.",
    )
    @action(
        detail=False, methods=["post"], url_path="password/change", throttle_classes=[PasswordCheckThrottle]
    )
    def password_change(self, request):
        data = validated(PasswordChangeSerializer, request)
        return Response(services.password_change(user=request.user, **data, request=request))

    @extend_schema(request=PasswordResetSerializer, responses={202: ACCEPTED}, summary="Email a reset link")
    @public_action(
        detail=False, methods=["post"], url_path="password/reset", throttle_classes=[PasswordResetThrottle]
    )
    def password_reset(self, request):
        data = validated(PasswordResetSerializer, request)
        services.password_reset_request(email=data["email"], request=request)
        return Response(status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=PasswordResetConfirmSerializer, responses={204: NO_CONTENT}, summary="Set a new password"
    )
    @public_action(
        detail=False,
        methods=["post"],
        url_path="password/reset/confirm",
        throttle_classes=[PasswordResetConfirmThrottle],
    )
    def password_reset_confirm(self, request):
        data = validated(PasswordResetConfirmSerializer, request)
        services.password_reset_confirm(**data, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=EmailVerifySerializer, responses={204: NO_CONTENT}, summary="Confirm an email address"
    )
    @public_action(detail=False, methods=["post"], url_path="email/verify")
    def email_verify(self, request):
        data = validated(EmailVerifySerializer, request)
        services.email_verify(**data, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None, responses={202: ACCEPTED, 409: OpenApiResponse(description="Already verified.")}
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="email/verify/resend",
        throttle_classes=[EmailVerificationResendThrottle],
    )
    def email_verification_resend(self, request):
        services.email_verification_resend(user=request.user)
        return Response(status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=EmailChangeSerializer,
        responses={202: ACCEPTED},
        summary="Change your email address",
        description="Confirm with your password. A link goes to the new address and a notice to the "
        "current one; the address changes only when the link is followed.",
    )
    @action(detail=False, methods=["post"], url_path="email/change", throttle_classes=[PasswordCheckThrottle])
    def email_change(self, request):
        data = validated(EmailChangeSerializer, request)
        services.email_change_request(user=request.user, **data, request=request)
        return Response(status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=EmailChangeConfirmSerializer,
        responses={204: NO_CONTENT, 409: OpenApiResponse(description="The address was taken meanwhile.")},
        summary="Confirm a new email address",
    )
    @public_action(detail=False, methods=["post"], url_path="email/change/confirm")
    def email_change_confirm(self, request):
        data = validated(EmailChangeConfirmSerializer, request)
        services.email_change_confirm(**data, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(summary="List accounts", description="Needs `accounts.view_user`."),
    retrieve=extend_schema(summary="Read an account", description="Needs `accounts.view_user`."),
    partial_update=extend_schema(
        request=StaffUserUpdateSerializer,
        summary="Edit an account",
        description="Needs `accounts.change_user`.",
    ),
    destroy=extend_schema(
        summary="Deactivate an account",
        description=(
            "Soft delete: the account is deactivated and its tokens revoked. Needs `accounts.delete_user`."
        ),
    ),
)
@extend_schema(tags=["users"])
class UserViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    GenericViewSet,
):
    queryset = selectors.user_list()
    serializer_class = UserSerializer
    filterset_class = UserFilter
    search_fields = ["email", "username", "full_name"]
    ordering_fields = ["id", "email", "username", "full_name", "date_joined", "last_login"]
    ordering = ["id"]
    action_permissions = {"me": [], "phone": [], "phone_verify": [], "roles": ["accounts.manage_roles"]}

    def get_queryset(self):
        if self.action in ("list", "retrieve"):  # reads: only the columns the answer shows
            return selectors.user_list_for_display()
        return super().get_queryset()

    def get_throttles(self):
        throttles = super().get_throttles()
        if self.action == "me" and self.request.method == "DELETE":
            throttles.append(PasswordCheckThrottle())  # closing the account checks the password
        if self.action == "phone":
            throttles.append(PhoneVerificationThrottle())  # each call sends a text message
        return throttles

    def partial_update(self, request, pk=None):
        user = self.get_object()
        data = validated(StaffUserUpdateSerializer, request, instance=user, partial=True)
        user = services.user_update(user=user, data=data, actor=request.user, request=request)
        return Response(UserSerializer(user).data)

    def perform_destroy(self, instance):
        if instance.pk == self.request.user.pk:
            raise ValidationError({"non_field_errors": ["Use DELETE users/me/ to close your own account."]})
        services.user_deactivate(user=instance, actor=self.request.user, request=self.request)

    @extend_schema(methods=["GET"], summary="Your account", responses={200: UserSerializer})
    @extend_schema(
        methods=["PATCH"],
        summary="Edit your profile",
        description='Only full_name, username, and phone `""` to remove your number. The email address '
        "cannot be changed here; a phone number is added or changed through `users/me/phone/`.",
        request=ProfileUpdateSerializer,
        responses={200: UserSerializer},
    )
    @extend_schema(
        methods=["DELETE"],
        summary="Close your account",
        description="Confirm with your password; the account is deactivated and every token revoked.",
        request=PasswordConfirmSerializer,
        responses={204: NO_CONTENT},
    )
    @action(detail=False, methods=["get", "patch", "delete"])
    def me(self, request):
        user = request.user
        if request.method == "PATCH":
            data = validated(ProfileUpdateSerializer, request, instance=user, partial=True)
            user = services.user_profile_update(user=user, data=data, request=request)
        elif request.method == "DELETE":
            data = validated(PasswordConfirmSerializer, request)
            services.user_deactivate_self(user=user, password=data["password"], request=request)
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(UserSerializer(user).data)

    @extend_schema(
        request=PhoneChangeSerializer,
        responses={
            202: PhoneChangePendingSerializer,
            409: OpenApiResponse(description="Another account has verified this number."),
        },
        summary="Add or change your phone number",
        description="Texts a six-digit code to the number; confirm it at `users/me/phone/verify/`. "
        "The account's number changes only then. Asking again replaces the code.",
    )
    @action(detail=False, methods=["post"], url_path="me/phone")
    def phone(self, request):
        data = validated(PhoneChangeSerializer, request)
        verification = services.phone_verification_request(
            user=request.user, phone=data["phone"], request=request
        )
        return Response({"phone": str(verification.phone)}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=PhoneVerifySerializer,
        responses={
            200: UserSerializer,
            409: OpenApiResponse(description="Another account verified this number meanwhile."),
        },
        summary="Confirm your phone number",
        description="The code texted by `users/me/phone/`: right, the number becomes the account's "
        "and verified. A code works once, for a limited time and number of tries; a wrong, expired "
        "or used code is a 400 on `code`.",
    )
    @action(detail=False, methods=["post"], url_path="me/phone/verify")
    def phone_verify(self, request):
        data = validated(PhoneVerifySerializer, request)
        user = services.phone_verify(user=request.user, code=data["code"], request=request)
        return Response(UserSerializer(user).data)

    @extend_schema(methods=["GET"], summary="A user's roles", responses={200: UserRolesSerializer})
    @extend_schema(
        methods=["PUT"],
        summary="Replace a user's roles",
        description="Needs `accounts.manage_roles`. Roles are named; the list replaces the user's roles.",
        request=UserRolesSerializer,
        responses={200: UserRolesSerializer},
    )
    @action(detail=True, methods=["get", "put"])
    def roles(self, request, pk=None):
        user = self.get_object()
        if request.method == "PUT":
            data = validated(UserRolesSerializer, request)
            role_services.user_roles_set(
                user=user, role_names=data["roles"], actor=request.user, request=request
            )
        return Response({"roles": sorted(user.groups.values_list("name", flat=True))})
