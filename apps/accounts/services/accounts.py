"""Account writes: registration, sign-in and tokens, password and email flows, profile changes.

Every function runs in one transaction on `default`; emails leave through Celery only after
that transaction commits; every change is recorded in the audit trail (logs database).
"""

from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from apps.accounts.emails import AccountEmail, account_email_send
from apps.accounts.models import User
from apps.accounts.tasks import send_account_email, send_password_reset
from apps.accounts.tokens import email_verification_token, password_reset_token, user_id_from_uid
from apps.analytics.models import LoginEvent
from apps.analytics.services import record_login
from apps.core.exceptions import Conflict
from apps.core.request_context import current_request_id
from apps.logs.services import audit, client_ip
from apps.roles.services import user_role_grant_default

PROFILE_FIELDS = ("full_name", "username", "phone")
STAFF_EDITABLE_FIELDS = (*PROFILE_FIELDS, "is_active")


class InvalidCredentials(AuthenticationFailed):
    default_detail = _("No active account found with the given credentials.")
    default_code = "invalid_credentials"


def _after_commit(send) -> None:
    # robust: the change has committed; a broker outage now must not turn it into a 500.
    # Django logs the failure (by the function's name), and the user can ask again.
    transaction.on_commit(send, robust=True)


def _send_email_after_commit(user: User, kind: AccountEmail) -> None:
    user_id, kind_value = user.pk, kind.value

    def queue_account_email():
        send_account_email.delay(user_id, kind_value)

    _after_commit(queue_account_email)


def _changes(before: dict, user: User, fields) -> dict:
    return {
        field: [before[field], getattr(user, field)]
        for field in fields
        if before[field] != getattr(user, field)
    }


def _raise_uniqueness_error(user: User) -> None:
    """Turn a lost race on the case-insensitive unique constraints into a field error."""
    if User.objects.with_email(user.email).exclude(pk=user.pk).exists():
        raise ValidationError({"email": [_("A user with that email already exists.")]})
    raise ValidationError({"username": [_("A user with that username already exists.")]})


def _save(user: User, **kwargs) -> None:
    try:
        with transaction.atomic():
            user.save(**kwargs)
    except IntegrityError:
        _raise_uniqueness_error(user)


# --- Tokens ---------------------------------------------------------------------------------------------
def tokens_for(user: User) -> dict[str, str]:
    refresh = RefreshToken.for_user(user)  # recorded as an OutstandingToken, so it can be revoked
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def tokens_revoke_all(*, user: User) -> int:
    """Blacklist every live refresh token of the user; returns how many."""
    live = OutstandingToken.objects.filter(
        user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
    )
    created = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in live], ignore_conflicts=True
    )
    return len(created)


@transaction.atomic
def token_refresh(*, refresh: str) -> dict[str, str]:
    """Rotate a refresh token: the presented one dies, a new pair is returned.

    SimpleJWT checks the blacklist and then blacklists in two steps, so two concurrent
    refreshes of one token could both succeed. Here the token's OutstandingToken row is
    locked first and the blacklist entry must be *created* by this call: a second caller
    waits for the lock, then finds the entry and is refused.
    """
    try:
        token = RefreshToken(refresh)
    except TokenError as exc:
        raise InvalidToken(str(exc)) from exc
    try:
        # get() drops the model's ordering by user, whose outer join FOR UPDATE cannot lock.
        outstanding = OutstandingToken.objects.select_for_update().get(jti=token[jwt_settings.JTI_CLAIM])
    except OutstandingToken.DoesNotExist as exc:
        raise InvalidToken(_("Token is invalid or expired")) from exc
    _entry, created = BlacklistedToken.objects.get_or_create(token=outstanding)
    if not created:
        raise InvalidToken(_("Token is blacklisted"))
    user = User.objects.filter(pk=token.get(jwt_settings.USER_ID_CLAIM)).first()
    if user is None or not user.is_active:
        raise InvalidCredentials(_("No active account found for the given token."))
    if token.get(jwt_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password):
        raise InvalidToken(_("The user's password has been changed."))
    return tokens_for(user)


# --- Sign-in --------------------------------------------------------------------------------------------
@transaction.atomic
def auth_login(*, email: str, password: str, request) -> tuple[User, dict[str, str]]:
    """Check the credentials, record the attempt, return the user and a fresh token pair."""
    user = authenticate(request, email=email, password=password)
    record_login(
        email=email,
        success=user is not None,
        method=LoginEvent.Method.PASSWORD,
        user_id=user.pk if user else None,
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )
    if user is None:
        raise InvalidCredentials()
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    audit(action="user.login", actor=user, target=user, request=request)
    return user, tokens_for(user)


@transaction.atomic
def auth_logout(*, user: User, refresh: str, request) -> None:
    try:
        token = RefreshToken(refresh)
    except TokenError as exc:
        raise ValidationError({"refresh": [_("Token is invalid, expired or already used.")]}) from exc
    if str(token.get(jwt_settings.USER_ID_CLAIM)) != str(user.pk):
        raise ValidationError({"refresh": [_("Token is invalid, expired or already used.")]})
    token.blacklist()
    audit(action="user.logout", actor=user, target=user, request=request)


# --- Registration and email verification ---------------------------------------------------------------
@transaction.atomic
def user_register(*, email: str, username: str, password: str, full_name: str = "", request=None) -> User:
    user = User(email=User.objects.normalize_email(email), username=username, full_name=full_name)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    user.set_password(password)
    _save(user)
    user_role_grant_default(user=user)
    audit(action="user.register", actor=user, target=user, request=request)
    _send_email_after_commit(user, AccountEmail.VERIFY_EMAIL)
    return user


def _user_from_link(uid: str, token: str, generator) -> User:
    # Locked: two concurrent uses of one single-use link must not both pass the check.
    user = User.objects.select_for_update().filter(pk=user_id_from_uid(uid), is_active=True).first()
    if user is None or not generator.check_token(user, token):
        raise ValidationError({"token": [_("This link is invalid or has expired.")]})
    return user


@transaction.atomic
def email_verify(*, uid: str, token: str, request=None) -> User:
    user = _user_from_link(uid, token, email_verification_token)
    user.email_verified_at = timezone.now()
    user.save(update_fields=["email_verified_at"])
    audit(action="user.email_verify", actor=user, target=user, request=request)
    _send_email_after_commit(user, AccountEmail.WELCOME)
    return user


@transaction.atomic
def email_verification_resend(*, user: User) -> None:
    if user.is_email_verified:
        raise Conflict(_("This email address is already verified."))
    _send_email_after_commit(user, AccountEmail.VERIFY_EMAIL)


# --- Passwords ------------------------------------------------------------------------------------------
def _password_set(user: User, password: str) -> None:
    validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    tokens_revoke_all(user=user)


@transaction.atomic
def password_change(*, user: User, old_password: str, new_password: str, request=None) -> None:
    if not user.check_password(old_password):
        raise ValidationError({"old_password": [_("Your current password is wrong.")]})
    try:
        _password_set(user, new_password)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.messages}) from exc
    audit(action="user.password_change", actor=user, target=user, request=request)


def password_reset_request(*, email: str, request=None) -> None:
    """Email a reset link if an active account has this address; say nothing either way.

    The lookup happens in the task, so the request takes the same time whether or not the
    account exists.
    """
    ip, request_id = client_ip(request), getattr(request, "request_id", None) or current_request_id()

    def queue_password_reset():
        send_password_reset.delay(email, ip=ip, request_id=request_id)

    _after_commit(queue_password_reset)


def password_reset_send(*, email: str, ip: str | None = None, request_id: str | None = None) -> bool:
    """The task's half of a reset request: find the account and email it a link."""
    user = next(
        (
            user
            for user in User.objects.with_email(email).filter(is_active=True)
            if user.has_usable_password()
        ),
        None,
    )
    if user is None:
        return False
    audit(action="user.password_reset_request", target=user, ip=ip, request_id=request_id)
    account_email_send(user=user, kind=AccountEmail.PASSWORD_RESET)
    return True


@transaction.atomic
def password_reset_confirm(*, uid: str, token: str, new_password: str, request=None) -> User:
    user = _user_from_link(uid, token, password_reset_token)
    try:
        _password_set(user, new_password)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.messages}) from exc
    if not user.is_email_verified:
        # Following a link sent to the address proves the user owns it.
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
    audit(action="user.password_reset", actor=user, target=user, request=request)
    return user


# --- Profile and account state --------------------------------------------------------------------------
def _ensure_may_manage(actor: User, user: User) -> None:
    if user.is_superuser and not actor.is_superuser:
        raise PermissionDenied(_("Only a superuser can change a superuser's account."))


def _user_update(user: User, data: dict, fields, *, actor: User, action: str, request) -> User:
    before = {field: getattr(user, field) for field in fields}
    for field in fields:
        if field in data:
            setattr(user, field, data[field])
    changes = _changes(before, user, fields)
    if not changes:
        return user
    user.full_clean(exclude=["password"], validate_constraints=False)
    _save(user, update_fields=list(changes))
    if "is_active" in changes and not user.is_active:
        tokens_revoke_all(user=user)
    audit(action=action, actor=actor, target=user, changes=changes, request=request)
    return user


@transaction.atomic
def user_profile_update(*, user: User, data: dict, request=None) -> User:
    """The user's own changes: full_name, username, phone only."""
    return _user_update(user, data, PROFILE_FIELDS, actor=user, action="user.profile_update", request=request)


@transaction.atomic
def user_update(*, user: User, data: dict, actor: User, request=None) -> User:
    """A staff member's changes to someone's account."""
    _ensure_may_manage(actor, user)
    if "is_active" in data and not data["is_active"] and user.pk == actor.pk:
        raise ValidationError({"is_active": [_("You cannot deactivate your own account here.")]})
    return _user_update(user, data, STAFF_EDITABLE_FIELDS, actor=actor, action="user.update", request=request)


@transaction.atomic
def user_deactivate(*, user: User, actor: User, request=None) -> User:
    """Soft delete: the account stays for history, cannot sign in, and all its tokens die."""
    _ensure_may_manage(actor, user)
    was_active = user.is_active
    if was_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    tokens_revoke_all(user=user)
    audit(
        action="user.deactivate",
        actor=actor,
        target=user,
        changes={"is_active": [True, False]} if was_active else {},
        request=request,
    )
    return user


@transaction.atomic
def user_deactivate_self(*, user: User, password: str, request=None) -> User:
    if not user.check_password(password):
        raise ValidationError({"password": [_("Your password is wrong.")]})
    return user_deactivate(user=user, actor=user, request=request)
