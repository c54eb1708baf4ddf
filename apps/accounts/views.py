import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from apps.accounts import selectors, services
from apps.accounts.authentication import JWTAuthentication, TwoFactorEnrolmentAuthentication
from apps.accounts.filters import UserFilter
from apps.accounts.jwt import session_id_claim
from apps.accounts.models import AuthSession, TwoFactorChallenge
from apps.accounts.serializers import (
    AccountReactivationConfirmSerializer,
    AccountReactivationSerializer,
    ChallengeTokenSerializer,
    EmailChangeConfirmSerializer,
    EmailChangeSerializer,
    EmailVerifySerializer,
    LoginSerializer,
    NewRecoveryCodesSerializer,
    PasswordChangeSerializer,
    PasswordConfirmSerializer,
    PasswordResetByCodeSerializer,
    PasswordResetByPhoneSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
    PersonalDataExportSerializer,
    PhoneChangePendingSerializer,
    PhoneChangeSerializer,
    PhoneVerifySerializer,
    ProfileUpdateSerializer,
    RecoveryCodesSerializer,
    RefreshSerializer,
    RegisterSerializer,
    SessionSerializer,
    SignInVerifySerializer,
    SMSEnableSerializer,
    StaffUserUpdateSerializer,
    TokenPairSerializer,
    TOTPConfirmSerializer,
    TOTPSetupSerializer,
    TwoFactorDisableSerializer,
    TwoFactorEnabledSerializer,
    TwoFactorEnrolmentRequiredSerializer,
    TwoFactorRequiredSerializer,
    TwoFactorStatusSerializer,
    UserSerializer,
)
from apps.accounts.throttles import (
    AccountExportThrottle,
    AccountReactivationConfirmThrottle,
    AccountReactivationThrottle,
    EmailVerificationResendThrottle,
    LoginFailureThrottle,
    LoginThrottle,
    PasswordCheckThrottle,
    PasswordResetConfirmThrottle,
    PasswordResetThrottle,
    PhoneVerificationThrottle,
    RegisterThrottle,
    SignInSecondStepThrottle,
    TwoFactorSMSThrottle,
)
from apps.core.api import GenericViewSet, public_action, validated
from apps.roles import selectors as role_selectors
from apps.roles import services as role_services
from apps.roles.serializers import UserAccessSerializer, UserRoleSerializer, UserRolesSerializer

NO_CONTENT = OpenApiResponse(description="Done; no body.")
ACCEPTED = OpenApiResponse(description="Accepted; an email is on its way if the request applies.")
TEXTED = OpenApiResponse(description="Accepted; a text message with a code is on its way.")
SIGN_IN_RESULT = PolymorphicProxySerializer(
    component_name="SignInResult",
    serializers=[TokenPairSerializer, TwoFactorRequiredSerializer],
    resource_type_field_name=None,
)
PASSWORD_RESET_REQUEST = PolymorphicProxySerializer(
    component_name="PasswordReset",
    serializers=[PasswordResetSerializer, PasswordResetByPhoneSerializer],
    resource_type_field_name=None,
)
PASSWORD_RESET_CONFIRM = PolymorphicProxySerializer(
    component_name="PasswordResetConfirm",
    serializers=[PasswordResetConfirmSerializer, PasswordResetByCodeSerializer],
    resource_type_field_name=None,
)


def _by_phone(request) -> bool:
    """Whether a password reset call is the SMS flow (`phone`) rather than the email one."""
    data = request.data if isinstance(request.data, dict) else {}
    if "phone" in data and ({"email", "uid", "token"} & data.keys()):
        message = "Give a phone number or the email flow's fields (email, uid, token), not both."
        raise ValidationError({"non_field_errors": [message]})
    return "phone" in data


@extend_schema(tags=["auth"])
class AuthViewSet(GenericViewSet):
    """Sign-in, tokens, registration, password and email flows."""

    action_permissions = {
        "two_factor": [],
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

    @extend_schema(
        request=RegisterSerializer,
        responses={201: UserSerializer},
        summary="Create an account",
        description="Answers the new account; a link to confirm the email address is on its way. An "
        "address or username already taken (ignoring case) is a 400 on that field. Sign in at "
        "`auth/login/`.",
        examples=[
            OpenApiExample(
                "A new account",
                value={
                    "email": "ada@example.com",
                    "username": "ada",
                    "password": "correct horse battery staple",
                    "full_name": "Ada Lovelace",
                },
                request_only=True,
            )
        ],
    )
    @public_action(detail=False, methods=["post"], throttle_classes=[RegisterThrottle])
    def register(self, request):
        data = validated(RegisterSerializer, request)
        user = services.user_register(**data, request=request)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=LoginSerializer,
        responses={200: SIGN_IN_RESULT, 403: TwoFactorEnrolmentRequiredSerializer},
        summary="Sign in",
        description="The right password answers the token pair, or, when the account has two-factor "
        "sign-in on, `{mfa_required, mfa_token, methods}`: finish at `auth/login/verify/`. A staff "
        "account without it while `REQUIRE_2FA_FOR_STAFF` holds is a 403 `mfa_enrolment_required` "
        "whose `mfa_token` opens the enrolment endpoints.",
        examples=[
            OpenApiExample(
                "Email and password",
                value={"email": "ada@example.com", "password": "correct horse battery staple"},
                request_only=True,
            )
        ],
    )
    @public_action(detail=False, methods=["post"], throttle_classes=[LoginThrottle, LoginFailureThrottle])
    def login(self, request):
        data = validated(LoginSerializer, request)
        reserved = LoginFailureThrottle.reserve(request)
        try:
            _, body = services.auth_login(email=data["email"], password=data["password"], request=request)
        except services.TwoFactorEnrolmentRequired:
            LoginFailureThrottle.release(request, reserved)  # the password was right
            raise
        LoginFailureThrottle.release(request, reserved)  # the password was right: not a failure
        return Response(body)

    @extend_schema(
        request=ChallengeTokenSerializer,
        responses={202: TEXTED},
        summary="Text a sign-in code",
        description="For an `mfa_token` whose `methods` include `sms`: texts a six-digit code, good "
        "for 5 minutes, to the account's verified number. Asking again replaces the code; one "
        "mfa_token gets 3 texts. A 429 when the number's or the application's text message budget "
        "is spent (`THROTTLE_SMS_NUMBER_RATE`, `THROTTLE_SMS_GLOBAL_RATE`); nothing is sent.",
    )
    @public_action(
        detail=False, methods=["post"], url_path="login/sms", throttle_classes=[SignInSecondStepThrottle]
    )
    def login_sms(self, request):
        data = validated(ChallengeTokenSerializer, request)
        services.sign_in_sms_send(challenge_token=data["mfa_token"], request=request)
        return Response(status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=SignInVerifySerializer,
        responses={200: TokenPairSerializer},
        summary="Finish a sign-in with a second factor",
        description="A code of the authenticator app, one texted by `auth/login/sms/`, or a recovery "
        "code (single use) → the token pair. A wrong code is a 400 on `code` saying how many tries "
        "the mfa_token has left (5 in all); a used, expired or spent mfa_token is a 401 "
        "`mfa_token_invalid`; too many wrong codes for the account lately, a 429.",
    )
    @public_action(
        detail=False, methods=["post"], url_path="login/verify", throttle_classes=[SignInSecondStepThrottle]
    )
    def login_verify(self, request):
        data = validated(SignInVerifySerializer, request)
        _, _, tokens = services.sign_in_verify(
            challenge_token=data["mfa_token"], code=data["code"], request=request, issue_tokens=True
        )
        return Response(tokens)

    @extend_schema(
        responses={200: TwoFactorStatusSerializer},
        summary="Your two-factor sign-in",
        tags=["two-factor"],
        description="Whether it is on, with which methods, and how many recovery codes are left.",
    )
    @action(detail=False, methods=["get"], url_path="2fa")
    def two_factor(self, request):
        return Response(TwoFactorStatusSerializer(services.two_factor_status(request.user)).data)

    @extend_schema(
        request=RefreshSerializer,
        responses={
            200: TokenPairSerializer,
            403: OpenApiResponse(
                description="`mfa_enrolment_required`: a staff account without two-factor sign-in "
                "while `REQUIRE_2FA_FOR_STAFF` holds. No mfa_token here: sign in again with the "
                "password, whose answer carries one."
            ),
        },
        summary="Rotate tokens",
        description="The refresh token dies and a new pair of the same session is answered. A token "
        "used a second time ends its whole session (401 `token_not_valid`). A session lives at most "
        "`SESSION_MAX_LIFETIME_DAYS` (30) from its sign-in however often it is refreshed: a refresh "
        "after that is a 401 `session_ended`, and the client signs in again. A staff account without "
        "two-factor sign-in while `REQUIRE_2FA_FOR_STAFF` holds gets a 403 `mfa_enrolment_required`, "
        "also for a session from before the setting, a promotion to staff, or turning 2FA off.",
    )
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
        "client, so the caller stays signed in. A staff account without two-factor sign-in while "
        "`REQUIRE_2FA_FOR_STAFF` holds is refused with a 403 `mfa_enrolment_required` (as is any "
        "request with its tokens): nothing changes and no session starts; sign in again with the "
        "password to enrol.",
    )
    @action(
        detail=False, methods=["post"], url_path="password/change", throttle_classes=[PasswordCheckThrottle]
    )
    def password_change(self, request):
        data = validated(PasswordChangeSerializer, request)
        return Response(services.password_change(user=request.user, **data, request=request))

    @extend_schema(
        request=PASSWORD_RESET_REQUEST,
        responses={202: ACCEPTED},
        summary="Ask for a password reset",
        description="`{email}`: emails a reset link. `{phone}`: texts a six-digit code to that number "
        "if an account has verified it (not when the account signs in with text message codes: the "
        "phone alone would then be both factors, nor when the number's or the application's text "
        "message budget is spent). Either way the answer is the same 202.",
    )
    @public_action(
        detail=False, methods=["post"], url_path="password/reset", throttle_classes=[PasswordResetThrottle]
    )
    def password_reset(self, request):
        if _by_phone(request):
            data = validated(PasswordResetByPhoneSerializer, request)
            services.password_reset_request(phone=data["phone"], request=request)
        else:
            data = validated(PasswordResetSerializer, request)
            services.password_reset_request(email=data["email"], request=request)
        return Response(status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=PASSWORD_RESET_CONFIRM,
        responses={204: NO_CONTENT},
        summary="Set a new password",
        description="With the emailed link's `uid` and `token`, or with the `phone` and the texted "
        "`code`. Either works once, and ends every session of the account. A texted code is good "
        "for 5 minutes and 5 tries, and refused codes also count per account (10 an hour, "
        "`THROTTLE_PASSWORD_RESET_CODE_FAILURES_RATE`; past that even the right code is refused); "
        "any refusal of one is the same 400 on `code`, whether or not the number has an account.",
    )
    @public_action(
        detail=False,
        methods=["post"],
        url_path="password/reset/confirm",
        throttle_classes=[PasswordResetConfirmThrottle],
    )
    def password_reset_confirm(self, request):
        if _by_phone(request):
            data = validated(PasswordResetByCodeSerializer, request)
            services.password_reset_code_confirm(**data, request=request)
        else:
            data = validated(PasswordResetConfirmSerializer, request)
            services.password_reset_confirm(**data, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=EmailVerifySerializer,
        responses={204: NO_CONTENT},
        summary="Confirm an email address",
        description="With the `uid` and `token` of the emailed link. A wrong or expired link is a 400.",
    )
    @public_action(detail=False, methods=["post"], url_path="email/verify")
    def email_verify(self, request):
        data = validated(EmailVerifySerializer, request)
        services.email_verify(**data, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None,
        responses={202: ACCEPTED, 409: OpenApiResponse(description="Already verified.")},
        summary="Send the confirmation email again",
        description="A new link to confirm your email address; a verified address is a 409.",
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
        description="With the `token` of the link sent to the new address; the account's address "
        "changes now. A wrong or expired token is a 400.",
    )
    @public_action(detail=False, methods=["post"], url_path="email/change/confirm")
    def email_change_confirm(self, request):
        data = validated(EmailChangeConfirmSerializer, request)
        services.email_change_confirm(**data, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=AccountReactivationSerializer,
        responses={202: ACCEPTED},
        summary="Ask to open a closed account again",
        description="Emails a link to the address if it belongs to an account closed with "
        "`DELETE users/me/` and not yet erased (`ACCOUNT_DELETION_GRACE_DAYS`, 30, after closing). "
        "The answer is the same 202 either way. Follow the link at `auth/reactivate/confirm/`.",
        examples=[OpenApiExample("A closed account", value={"email": "ada@example.com"}, request_only=True)],
    )
    @public_action(
        detail=False, methods=["post"], url_path="reactivate", throttle_classes=[AccountReactivationThrottle]
    )
    def reactivate(self, request):
        data = validated(AccountReactivationSerializer, request)
        services.account_reactivation_request(email=data["email"], request=request)
        return Response(status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=AccountReactivationConfirmSerializer,
        responses={204: NO_CONTENT},
        summary="Open a closed account again",
        description="With the `token` of the emailed link: the account is active again and will not "
        "be erased; sign in at `auth/login/`. Its past bookings are as they were; those cancelled "
        "when it closed stay cancelled. A wrong, used or expired link is a 400 on `token`.",
    )
    @public_action(
        detail=False,
        methods=["post"],
        url_path="reactivate/confirm",
        throttle_classes=[AccountReactivationConfirmThrottle],
    )
    def reactivate_confirm(self, request):
        data = validated(AccountReactivationConfirmSerializer, request)
        services.account_reactivate(token=data["token"], request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["two-factor"])
class TwoFactorViewSet(GenericViewSet):
    """Turning two-factor sign-in on and off (`auth/2fa/...`); its state is `GET auth/2fa/`."""

    action_permissions = {
        "totp_setup": [],
        "totp_confirm": [],
        "sms_code": [],
        "sms_enable": [],
        "recovery_codes": [],
        "disable": [],
    }

    def get_authenticate_header(self, request):
        return JWTAuthentication().authenticate_header(request)

    @extend_schema(
        request=None,
        responses={200: TOTPSetupSerializer, 409: OpenApiResponse(description="An app is already on.")},
        summary="Set up an authenticator app",
        description="A new secret, its `otpauth://` URI and a QR code of it. Nothing changes until "
        "`totp/confirm/` gets a code of it; asking again replaces the pending secret. Also takes "
        "`Authorization: MFA <mfa_token>` from a 403 `mfa_enrolment_required`.",
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="totp/setup",
        authentication_classes=[JWTAuthentication, TwoFactorEnrolmentAuthentication],
    )
    def totp_setup(self, request):
        return Response(services.totp_setup(user=request.user, request=request))

    @extend_schema(
        request=TOTPConfirmSerializer,
        responses={200: TwoFactorEnabledSerializer},
        summary="Turn the authenticator app on",
        description="With a current code of the pending secret (`code`), your `password`, and, while "
        "text message codes are on, a `current_code` of them (texted by `sms/code/`) or a recovery "
        "code: an access token alone adds no factor. A wrong password is a 400 on `password`, a "
        "refused current code a 400 on `current_code`. An email tells the account. The first method "
        "turned on brings ten recovery codes, shown this once. Called with an enrolment mfa_token "
        "(whose sign-in proved the password), `code` alone does; it also answers the first token "
        "pair of a session, and a wrong code counts against that token's 5.",
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="totp/confirm",
        authentication_classes=[JWTAuthentication, TwoFactorEnrolmentAuthentication],
        throttle_classes=[PasswordCheckThrottle],
    )
    def totp_confirm(self, request):
        data = validated(TOTPConfirmSerializer, request)
        if isinstance(request.auth, TwoFactorChallenge):  # a staff member enrolling at sign-in
            result = services.enrolment_confirm(challenge=request.auth, code=data["code"], request=request)
        else:
            result = services.totp_confirm(
                user=request.user,
                code=data["code"],
                password=data["password"],
                current_code=data["current_code"],
                request=request,
            )
        return Response(TwoFactorEnabledSerializer(result).data)

    @extend_schema(
        request=None,
        responses={202: TEXTED},
        summary="Text a code to your verified number",
        description="For `sms/enable/`, and, while text message codes are on, as the current code "
        "that `disable/`, `recovery-codes/`, `totp/confirm/` and `users/me/phone/` ask for; good for "
        "5 minutes and 5 tries. Needs a verified phone number (400 otherwise). A 429 when the "
        "number's or the application's text message budget is spent; nothing is sent.",
    )
    @action(detail=False, methods=["post"], url_path="sms/code", throttle_classes=[TwoFactorSMSThrottle])
    def sms_code(self, request):
        services.two_factor_sms_code_send(user=request.user, request=request)
        return Response(status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=SMSEnableSerializer,
        responses={200: TwoFactorEnabledSerializer, 409: OpenApiResponse(description="Already on.")},
        summary="Turn text message codes on",
        description="With the code `sms/code/` texted to your verified number (`code`), your "
        "`password`, and, while the authenticator app is on, a `current_code` of it or a recovery "
        "code. A wrong password is a 400 on `password`, a refused current code a 400 on "
        "`current_code` (the texted code then stays good). Sign-in codes then go to that number; an "
        "email tells the account. The first method turned on brings ten recovery codes, shown this "
        "once.",
    )
    @action(detail=False, methods=["post"], url_path="sms/enable", throttle_classes=[PasswordCheckThrottle])
    def sms_enable(self, request):
        data = validated(SMSEnableSerializer, request)
        result = services.sms_enable(user=request.user, **data, request=request)
        return Response(TwoFactorEnabledSerializer(result).data)

    @extend_schema(
        request=NewRecoveryCodesSerializer,
        responses={200: RecoveryCodesSerializer, 409: OpenApiResponse(description="2FA is off.")},
        summary="Make new recovery codes",
        description="Ten new single-use codes, shown this once; every earlier one stops working. "
        "Needs your `password` and a current `code` (the app's, one texted by `sms/code/` while text "
        "message codes are on, or a recovery code): a body of `{password}` alone is a 400 on `code`. "
        "An email tells the account.",
    )
    @action(
        detail=False, methods=["post"], url_path="recovery-codes", throttle_classes=[PasswordCheckThrottle]
    )
    def recovery_codes(self, request):
        data = validated(NewRecoveryCodesSerializer, request)
        codes = services.recovery_codes_generate(user=request.user, **data, request=request)
        return Response({"recovery_codes": codes})

    @extend_schema(
        request=TwoFactorDisableSerializer,
        responses={204: NO_CONTENT, 409: OpenApiResponse(description="2FA is off.")},
        summary="Turn two-factor sign-in off",
        description="Needs your password and a current code (the app's, one texted by `sms/code/`, "
        "or a recovery code). Every method and recovery code goes; an email tells the account.",
    )
    @action(detail=False, methods=["post"], throttle_classes=[PasswordCheckThrottle])
    def disable(self, request):
        data = validated(TwoFactorDisableSerializer, request)
        services.two_factor_disable(user=request.user, **data, request=request)
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
    action_permissions = {
        "me": [],
        "my_permissions": [],
        "phone": [],
        "phone_verify": [],
        "export": [],
        "roles": ["accounts.manage_roles"],
        "role_remove": ["accounts.manage_roles"],
    }

    def get_queryset(self):
        if self.action in ("list", "retrieve"):  # reads: rows of only the columns the answer shows
            return selectors.user_rows_for_display()
        return super().get_queryset()

    def get_throttles(self):
        throttles = super().get_throttles()
        if self.action == "me" and self.request.method == "DELETE":
            throttles.append(PasswordCheckThrottle())  # closing the account checks the password
        if self.action == "phone":
            throttles.append(PhoneVerificationThrottle())  # each call sends a text message
            throttles.append(PasswordCheckThrottle())  # and checks the password
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

    @extend_schema(
        methods=["GET"],
        summary="Your account",
        description="The account the token belongs to.",
        responses={200: UserSerializer},
    )
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
        description="Confirm with your password. At once: the account is deactivated, every session "
        "and token ends, your bookings not yet started are cancelled (the other party is told), and "
        "messages still queued for you are dropped. For `ACCOUNT_DELETION_GRACE_DAYS` (30) you can "
        "open it again (`auth/reactivate/`); then it is erased: your details are removed, the "
        "address is free to register again, and bookings stay, anonymised, in the other party's "
        "records.",
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
        responses={200: UserAccessSerializer},
        summary="What you may do",
        description="Your roles and every permission you hold (`app_label.codename`, sorted), from "
        "your roles and given to you directly: what the API checks. For a superuser, "
        "`is_superuser` is true and the list holds every permission there is; a superuser passes "
        "every check. A change to your roles or theirs shows at the next call.",
        examples=[
            OpenApiExample(
                "A provider",
                value={
                    "is_superuser": False,
                    "roles": ["provider"],
                    "permissions": ["bookings.change_booking", "bookings.view_booking"],
                },
                response_only=True,
            )
        ],
    )
    @action(detail=False, methods=["get"], url_path="me/permissions")
    def my_permissions(self, request):
        return Response(UserAccessSerializer(role_selectors.user_access(request.user)).data)

    @extend_schema(
        responses={200: PersonalDataExportSerializer},
        summary="Export your personal data",
        description="Everything stored about you, as JSON: profile, roles, sessions, two-factor "
        "sign-in (which methods are on; no secrets), phone verification, bookings as customer and as "
        "provider, provider profile and working hours, the messages sent to you (as stored), the "
        "audit entries where you acted or were acted on, and your sign-in attempts. Each list is the "
        "newest `ACCOUNT_EXPORT_MAX_ROWS` (1000) rows at most; `truncated` names the lists that had "
        "more. A 429 past `THROTTLE_ACCOUNT_EXPORT_RATE` (3 an hour).",
    )
    @action(detail=False, methods=["get"], url_path="me/export", throttle_classes=[AccountExportThrottle])
    def export(self, request):
        return Response(services.personal_data_export(user=request.user, request=request))

    @extend_schema(
        request=PhoneChangeSerializer,
        responses={202: PhoneChangePendingSerializer},
        summary="Add or change your phone number",
        description="Needs your `password` (a body of `{phone}` alone is a 400 on `password`) and, "
        "while two-factor sign-in is on, a current `code` of a factor: the authenticator app's, one "
        "texted by `auth/2fa/sms/code/` to the current number while text message codes are on, or a "
        "recovery code. A wrong password is a 400 on `password`, a refused code a 400 on `code`. "
        "Then texts a six-digit code to the number; confirm it at `users/me/phone/verify/`. The "
        "account's number changes only then. Asking again replaces the code. Needs a verified "
        "email address (403 `email_not_verified`) and a valid number of a country in "
        "`SMS_ALLOWED_COUNTRIES` (400 on `phone`). A number another account has verified gets the "
        "same 202, but no text: the answer does not tell which numbers have accounts. A 429 past 5 "
        "requests an hour, or when the number's or the application's text message budget is spent.",
    )
    @action(detail=False, methods=["post"], url_path="me/phone")
    def phone(self, request):
        data = validated(PhoneChangeSerializer, request)
        verification = services.phone_verification_request(user=request.user, **data, request=request)
        return Response({"phone": str(verification.phone)}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=PhoneVerifySerializer,
        responses={
            200: UserSerializer,
            409: OpenApiResponse(description="Another account verified this number meanwhile."),
        },
        summary="Confirm your phone number",
        description="The code texted by `users/me/phone/`: right, the number becomes the account's "
        "and verified, and the owner is told (`phone_change_notice`: an email, and a text to the "
        "verified number it replaces). A new number cannot reset the password for its first "
        "`PHONE_RESET_COOLING_OFF_HOURS` (24) hours. A code works once, for a limited time and "
        "number of tries; a wrong, expired or used code is a 400 on `code`.",
    )
    @action(detail=False, methods=["post"], url_path="me/phone/verify")
    def phone_verify(self, request):
        data = validated(PhoneVerifySerializer, request)
        user = services.phone_verify(user=request.user, code=data["code"], request=request)
        return Response(UserSerializer(user).data)

    @extend_schema(
        methods=["GET"],
        summary="A user's roles",
        description="Needs `accounts.manage_roles`. The names of the roles the user holds.",
        responses={200: UserRolesSerializer},
    )
    @extend_schema(
        methods=["PUT"],
        summary="Replace a user's roles",
        description="Needs `accounts.manage_roles`. Roles are named; the list replaces the user's roles.",
        request=UserRolesSerializer,
        responses={200: UserRolesSerializer},
    )
    @extend_schema(
        methods=["POST"],
        summary="Give a user one more role",
        description=(
            "Needs `accounts.manage_roles`. Adds the named role and keeps the others: 201 when it was "
            "added, 200 when the user held it already (nothing changes). An unknown role is a 400 on "
            "`role`; the rules of the replace apply (403 for a role whose permissions you lack, or a "
            "superuser's roles unless you are one)."
        ),
        request=UserRoleSerializer,
        responses={200: UserRolesSerializer, 201: UserRolesSerializer},
    )
    @action(detail=True, methods=["get", "put", "post"])
    def roles(self, request, pk=None):
        user = self.get_object()
        status_code = status.HTTP_200_OK
        if request.method == "PUT":
            data = validated(UserRolesSerializer, request)
            role_services.user_roles_set(
                user=user, role_names=data["roles"], actor=request.user, request=request
            )
        elif request.method == "POST":
            data = validated(UserRoleSerializer, request)
            if role_services.user_role_add(
                user=user, role_name=data["role"], actor=request.user, request=request
            ):
                status_code = status.HTTP_201_CREATED
        return Response({"roles": sorted(user.groups.values_list("name", flat=True))}, status=status_code)

    @extend_schema(
        summary="Take one role from a user",
        description=(
            "Needs `accounts.manage_roles`. Removes the role named in the path and keeps the others. "
            "A role that does not exist, or that the user does not hold, is a 404 (so a repeated call "
            "says it is gone already); the rules of the replace apply."
        ),
        parameters=[
            OpenApiParameter(
                "role_name", OpenApiTypes.STR, OpenApiParameter.PATH, description="The role's name."
            )
        ],
        request=None,
        responses={204: NO_CONTENT},
    )
    @action(detail=True, methods=["delete"], url_path=r"roles/(?P<role_name>[^/]+)")
    def role_remove(self, request, pk=None, role_name=None):
        user = self.get_object()
        role_services.user_role_remove(user=user, role_name=role_name, actor=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


SESSION_ID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
INCLUDE_ENDED = OpenApiParameter(
    "include_ended",
    OpenApiTypes.STR,
    enum=["true", "false"],
    description="`true` lists ended sessions too (newest first, with `ended_at` and `end_reason`).",
)


@extend_schema_view(
    list=extend_schema(
        summary="Your sessions",
        description="The sessions of your account, newest first: where and when each began "
        "(`ip`, `user_agent`, `created_at` as recorded at sign-in), its latest refresh, and "
        "`current` for the one this request's token belongs to. Only the live ones unless "
        "`include_ended=true`.",
        parameters=[INCLUDE_ENDED],
    ),
    destroy=extend_schema(
        summary="End one of your sessions",
        description="Signs that session out, as `auth/logout/` does: its access tokens stop "
        "working at once, its refresh token at its next use. Yours only: anyone else's session is "
        "a 404. Ending the current one signs you out; ending one that has ended already changes "
        "nothing (204).",
        parameters=[
            OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The session's id.")
        ],
        responses={204: NO_CONTENT},
    ),
)
@extend_schema(tags=["auth"])
class SessionViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, GenericViewSet):
    """The caller's own sessions: see where the account is signed in, and end any of them."""

    serializer_class = SessionSerializer
    queryset = AuthSession.objects.none()  # for the schema; get_queryset() is the caller's
    lookup_value_regex = SESSION_ID
    filter_backends = []
    action_permissions = {"list": [], "destroy": []}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AuthSession.objects.none()
        return selectors.session_list(user=self.request.user, include_ended=self._include_ended())

    def _include_ended(self) -> bool:
        values = self.request.query_params.getlist("include_ended")
        if not values:
            return False
        if len(values) > 1 or values[0] not in ("true", "false"):
            raise ValidationError({"include_ended": ['Give "true" or "false", once.']})
        return values[0] == "true"

    def get_serializer_context(self):
        context = super().get_serializer_context()
        token = self.request.auth
        context["current_session_id"] = session_id_claim(token) if token is not None else None
        return context

    def destroy(self, request, pk=None):
        services.session_end(user=request.user, session_id=uuid.UUID(pk), request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)
