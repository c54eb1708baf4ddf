"""Account writes: registration, email verification and change, passwords, profile and account state.

Every function runs in one transaction on `default`; emails are queued in that transaction through
the notification pipeline and leave only after it commits; every change is recorded in the audit
trail (logs database).
"""

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.phonenumber import PhoneNumber
from rest_framework.request import Request

from apps.accounts.models import AuthSession, SMSCode, TwoFactor, User
from apps.accounts.services.deletion import account_close, account_deactivate, account_deletion_cancel
from apps.accounts.services.phone import phone_change_notify
from apps.accounts.services.sessions import session_start, sessions_end_all
from apps.accounts.services.sms_codes import sms_code_issue, sms_code_locked, sms_code_refusal, sms_code_try
from apps.accounts.tasks import send_password_reset, send_password_reset_code
from apps.accounts.throttles import PasswordResetCodeFailureBudget
from apps.accounts.tokens import (
    email_change_token_matches,
    email_change_token_read,
    email_verification_token,
    password_reset_token,
    user_id_from_uid,
)
from apps.core.client_address import client_ip
from apps.core.errors import Conflict, InvalidInput, PermissionDenied
from apps.core.normalization import canonical_email
from apps.core.request_context import current_request_id
from apps.logs.services import audit
from apps.logs.snapshots import diff, snapshot
from apps.notifications.services import notify
from apps.notifications.sms_budget import SMSBudgetSpent
from apps.roles.services import user_role_grant_default

PROFILE_FIELDS = ("full_name", "username", "phone")
PHONE_ONLY_BY_VERIFICATION = _(
    "Only an empty value, to remove your number, is taken here. To add or change it, "
    "POST the number to users/me/phone/ and confirm the code it receives."
)
STAFF_EDITABLE_FIELDS = (*PROFILE_FIELDS, "is_active")


def _after_commit(send: Callable[[], None]) -> None:
    # robust: the change has committed; a broker outage now must not turn it into a 500.
    # Django logs the failure (by the function's name), and the user can ask again.
    transaction.on_commit(send, robust=True)


def _raise_uniqueness_error(user: User) -> None:
    """Turn a lost race on the case-insensitive unique constraints into a field error."""
    if User.objects.with_email(user.email).exclude(pk=user.pk).exists():
        raise InvalidInput({"email": [_("A user with that email already exists.")]})
    raise InvalidInput({"username": [_("A user with that username already exists.")]})


def _save(user: User, **kwargs: Any) -> None:
    try:
        with transaction.atomic():
            user.save(**kwargs)
    except IntegrityError:
        _raise_uniqueness_error(user)


# --- Registration and email verification ---------------------------------------------------------------
@transaction.atomic
def user_register(
    *,
    email: str,
    username: str,
    password: str,
    full_name: str = "",
    request: HttpRequest | Request | None = None,
) -> User:
    user = User(email=canonical_email(email), username=username, full_name=full_name)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise InvalidInput({"password": exc.messages}) from exc
    user.set_password(password)
    _save(user)
    user_role_grant_default(user=user)
    audit(action="user.register", actor=user, target=user, request=request)
    notify(user=user, key="verify_email")
    return user


def _user_from_link(uid: str, token: str, generator: PasswordResetTokenGenerator) -> User:
    # Locked: two concurrent uses of one single-use link must not both pass the check.
    user_id = user_id_from_uid(uid)
    user = (
        User.objects.select_for_update().filter(pk=user_id, is_active=True).first()
        if user_id is not None
        else None
    )
    if user is None or not generator.check_token(user, token):
        raise InvalidInput({"token": [_("This link is invalid or has expired.")]})
    return user


@transaction.atomic
def email_verify(*, uid: str, token: str, request: HttpRequest | Request | None = None) -> User:
    user = _user_from_link(uid, token, email_verification_token)
    user.email_verified_at = timezone.now()
    user.save(update_fields=["email_verified_at"])
    audit(action="user.email_verify", actor=user, target=user, request=request)
    notify(user=user, key="welcome", idempotency_key=f"user:{user.pk}:welcome")
    return user


@transaction.atomic
def email_verification_resend(*, user: User) -> None:
    if user.is_email_verified:
        raise Conflict(_("This email address is already verified."))
    notify(user=user, key="verify_email")


# --- Email change ---------------------------------------------------------------------------------------
@transaction.atomic
def email_change_request(
    *, user: User, password: str, new_email: str, request: HttpRequest | Request | None = None
) -> None:
    """Send a confirmation link to the new address and tell the old one; nothing changes yet."""
    if not user.check_password(password):
        raise InvalidInput({"password": [_("Your password is wrong.")]})
    new_email = canonical_email(new_email)
    if new_email == user.email:
        raise InvalidInput({"new_email": [_("This is already your email address.")]})
    if User.objects.with_email(new_email).exists():
        raise InvalidInput({"new_email": [_("A user with that email already exists.")]})
    audit(
        action="user.email_change_request",
        actor=user,
        target=user,
        changes={"email": [user.email, new_email]},
        request=request,
    )
    notify(user=user, key="email_change_confirm", context={"new_email": new_email})
    notify(user=user, key="email_change_notice", context={"new_email": new_email})


@transaction.atomic
def email_change_confirm(*, token: str, request: HttpRequest | Request | None = None) -> User:
    """Switch to the address the link was sent to; it counts as verified, since the link arrived."""
    claim = email_change_token_read(token)
    user = None
    if claim is not None:
        # Locked: two concurrent uses of the single-use link must not both pass the check.
        user = User.objects.select_for_update().filter(pk=claim.user_id, is_active=True).first()
    if claim is None or user is None or not email_change_token_matches(user, claim):
        raise InvalidInput({"token": [_("This link is invalid or has expired.")]})
    old_email = user.email
    user.email, user.email_verified_at = claim.new_email, timezone.now()
    try:
        with transaction.atomic():
            user.save(update_fields=["email", "email_verified_at"])
    except IntegrityError as exc:
        raise Conflict(_("Another account has taken this email address in the meantime.")) from exc
    audit(
        action="user.email_change",
        actor=user,
        target=user,
        changes={"email": [old_email, user.email]},
        request=request,
    )
    return user


# --- Passwords ------------------------------------------------------------------------------------------
def _password_set(user: User, password: str, *, reason: str, encoded: str | None = None) -> None:
    validate_password(password, user)
    if encoded is None:
        user.set_password(password)
    else:  # hashed already (make_password): set_password, less the hashing
        # `_password` is AbstractBaseUser's, which the stubs leave out.
        user.password, user._password = encoded, password  # type: ignore[attr-defined]
    user.save(update_fields=["password"])
    sessions_end_all(user=user, reason=reason)


@transaction.atomic
def password_change(
    *, user: User, old_password: str, new_password: str, request: HttpRequest | Request | None = None
) -> dict[str, str]:
    """Every session ends, the one that made the change included; that one gets a fresh pair."""
    if not user.check_password(old_password):
        raise InvalidInput({"old_password": [_("Your current password is wrong.")]})
    try:
        _password_set(user, new_password, reason=AuthSession.EndReason.PASSWORD_CHANGE)
    except ValidationError as exc:
        raise InvalidInput({"new_password": exc.messages}) from exc
    audit(action="user.password_change", actor=user, target=user, request=request)
    notify(user=user, key="password_changed", context={"how": "change"})
    return session_start(user=user, request=request)


def password_reset_request(
    *,
    email: str | None = None,
    phone: str | PhoneNumber | None = None,
    request: HttpRequest | Request | None = None,
) -> None:
    """Email a reset link, or text a reset code to a verified number, if an active account has
    this address or number; say nothing either way.

    The lookup happens in the task, so the request takes the same time whether or not the
    account exists.
    """
    ip, request_id = client_ip(request), getattr(request, "request_id", None) or current_request_id()
    phone = str(phone) if phone else None

    def queue_password_reset() -> None:
        if phone:
            send_password_reset_code.delay(phone, ip=ip, request_id=request_id)
        else:
            send_password_reset.delay(email, ip=ip, request_id=request_id)

    _after_commit(queue_password_reset)


def _account_with_password(users: QuerySet[User]) -> User | None:
    return next((user for user in users.filter(is_active=True) if user.has_usable_password()), None)


def password_reset_send(*, email: str, ip: str | None = None, request_id: str | None = None) -> bool:
    """The task's half of a reset request: find the account and email it a link."""
    user = _account_with_password(User.objects.with_email(email))
    if user is None:
        return False
    audit(action="user.password_reset_request", target=user, ip=ip, request_id=request_id)
    notify(user=user, key="password_reset")
    return True


def _with_verified_phone(phone: str) -> QuerySet[User]:
    """The account that verified `phone`, once it has held it for PHONE_RESET_COOLING_OFF_HOURS: a
    number added with a stolen access token must not reset the password before the owner, told of
    the change by email, can take the account back."""
    settled = timezone.now() - timedelta(hours=settings.PHONE_RESET_COOLING_OFF_HOURS)
    return User.objects.filter(phone=phone, phone_verified_at__lte=settled)


@transaction.atomic
def password_reset_code_send(*, phone: str, ip: str | None = None, request_id: str | None = None) -> bool:
    """The task's half of a reset by SMS: text a code to the account that verified `phone`.

    Not to an account that signs in with text message codes: the phone alone would then reset the
    password and pass the second factor. Such a request is audited, and its owner can use the
    emailed link. Nor when the number's or the global text budget is spent: the request's answer
    stays the 202 it was, and the drop is audited.
    """
    user = _account_with_password(_with_verified_phone(phone).select_for_update())
    if user is None:
        lately = User.objects.filter(phone=phone, phone_verified_at__isnull=False, is_active=True).first()
        if lately is not None:  # verified within the cooling-off: refused, and on the record
            _sms_reset_request_audit(lately, "number verified lately", ip=ip, request_id=request_id)
        return False
    two_factor = TwoFactor.objects.filter(user=user).first()
    if two_factor is not None and two_factor.sms_enabled_at is not None:
        _sms_reset_request_audit(user, "sms is the second factor", ip=ip, request_id=request_id)
        return False
    refused = None
    try:
        sms_code_issue(user=user, purpose=SMSCode.Purpose.PASSWORD_RESET)
    except SMSBudgetSpent:  # the request was answered 202 long ago: dropped, but on record
        refused = "text message budget spent"
    _sms_reset_request_audit(user, refused, ip=ip, request_id=request_id)
    return refused is None


def _sms_reset_request_audit(
    user: User, refused: str | None, *, ip: str | None, request_id: str | None
) -> None:
    """The audit entry of a reset request by SMS, with why no code went out when none did."""
    changes = {"channel": [None, "sms"]}
    if refused is not None:
        changes["refused"] = [None, refused]
    audit(action="user.password_reset_request", target=user, changes=changes, ip=ip, request_id=request_id)


# One answer for every refusal: a number without an account must not read differently from a
# wrong code, or the endpoint would tell which numbers have accounts.
RESET_CODE_REFUSED = _("This code is wrong or has expired; ask for a new one.")


def _reset_code_failures_of(user: User | None, phone: str) -> str:
    """Whose budget of refused reset codes a confirmation counts on: the account's, or, for a
    number no account has, the number's, so that both do the same work and read the same."""
    return f"user:{user.pk}" if user is not None else f"phone:{phone}"


def password_reset_code_confirm(
    *, phone: str | PhoneNumber, code: str, new_password: str, request: HttpRequest | Request | None = None
) -> User:
    """Set a new password with the code texted by `password_reset_code_send`; every session ends.

    The new password is checked first, for every number alike (a check that needs the account would
    tell which numbers have one), so a weak one costs no try. Every try of a live code counts and
    stays counted (committed before the 400), up to SMS_CODE_MAX_ATTEMPTS. Every refusal also
    counts against the account (THROTTLE_PASSWORD_RESET_CODE_FAILURES_RATE), across codes and
    addresses; once that is spent, even the right code is refused, with the same 400: a 429 would
    tell that the number has an account. A right code with a password too like the account's own
    details is kept for the next try with a better password.
    """
    try:
        validate_password(new_password)
    except ValidationError as exc:
        raise InvalidInput({"new_password": exc.messages}) from exc
    # Hashed once, first, for every confirmation, whether or not the number has an account or the
    # code is right (a right one stores this hash): the costliest step must not run only for numbers
    # with accounts, or the time of the answer would tell them apart.
    encoded = make_password(new_password)
    phone = str(phone)
    refusal = None
    with transaction.atomic():
        user = _account_with_password(_with_verified_phone(phone).select_for_update())
        # Looked up for a number without an account too (none is found): the same queries either way.
        sms_code = sms_code_locked(user=user, purpose=SMSCode.Purpose.PASSWORD_RESET)
        failures, whose = PasswordResetCodeFailureBudget(), _reset_code_failures_of(user, phone)
        spent = failures.spent(whose)
        now = timezone.now()
        if not (
            user is not None  # (a number without an account has no code either)
            and sms_code is not None
            and str(sms_code.phone) == phone
            and not sms_code_refusal(sms_code, now)
            and not spent
            and sms_code_try(sms_code, code, now)  # the try counts either way
        ):
            failures.take(whose)
            refusal = InvalidInput({"code": [RESET_CODE_REFUSED]})
        else:
            try:
                validate_password(new_password, user)
            except ValidationError as exc:
                sms_code.used_at = None
                sms_code.save(update_fields=["used_at"])
                refusal = InvalidInput({"new_password": exc.messages})
            else:
                _password_set(
                    user, new_password, reason=AuthSession.EndReason.PASSWORD_RESET, encoded=encoded
                )
                audit(
                    action="user.password_reset",
                    actor=user,
                    target=user,
                    changes={"channel": [None, "sms"]},
                    request=request,
                )
                notify(user=user, key="password_changed", context={"how": "sms", "phone": phone})
    if refusal is not None:
        raise refusal
    assert user is not None  # refused above without an account
    return user


@transaction.atomic
def password_reset_confirm(
    *, uid: str, token: str, new_password: str, request: HttpRequest | Request | None = None
) -> User:
    user = _user_from_link(uid, token, password_reset_token)
    try:
        _password_set(user, new_password, reason=AuthSession.EndReason.PASSWORD_RESET)
    except ValidationError as exc:
        raise InvalidInput({"new_password": exc.messages}) from exc
    if not user.is_email_verified:
        # Following a link sent to the address proves the user owns it.
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
    audit(action="user.password_reset", actor=user, target=user, request=request)
    notify(user=user, key="password_changed", context={"how": "link"})
    return user


# --- Profile and account state --------------------------------------------------------------------------
def _ensure_may_manage(actor: User, user: User) -> None:
    if user.is_superuser and not actor.is_superuser:
        raise PermissionDenied(_("Only a superuser can change a superuser's account."))


def _user_update(
    user: User,
    data: dict[str, Any],
    fields: Sequence[str],
    *,
    actor: User,
    action: str,
    request: HttpRequest | Request | None,
) -> User:
    before = snapshot(user, fields)  # a phone number compares as its E.164 text
    for field in fields:
        if field in data:
            setattr(user, field, data[field])
    changes = diff(before, user)
    if not changes:
        return user
    update_fields = list(changes)
    if "phone" in changes and user.phone_verified_at is not None:
        # The code proved the old number; a new one (or none) has proved nothing yet.
        user.phone_verified_at = None
        update_fields.append("phone_verified_at")
    try:
        user.full_clean(exclude=["password"], validate_constraints=False)
    except ValidationError as exc:
        raise InvalidInput(exc.message_dict) from exc
    _save(user, update_fields=update_fields)
    if "is_active" in changes and not user.is_active:
        sessions_end_all(user=user, reason=AuthSession.EndReason.DEACTIVATED)
    if "is_active" in changes and user.is_active:
        account_deletion_cancel(user=user)  # staff opened a closed account: it stays
    audit(action=action, actor=actor, target=user, changes=changes, request=request)
    return user


@transaction.atomic
def user_profile_update(
    *, user: User, data: dict[str, Any], request: HttpRequest | Request | None = None
) -> User:
    """The user's own changes: full_name, username, and removing the phone number (phone "");
    a number is added or changed only by verifying it (apps/accounts/services/phone.py)."""
    if data.get("phone"):
        raise InvalidInput({"phone": [PHONE_ONLY_BY_VERIFICATION]})
    if (
        "phone" in data
        and str(user.phone)
        and TwoFactor.objects.filter(user=user, sms_enabled_at__isnull=False).exists()
    ):
        # Removing the number would leave sign-in codes nowhere to go.
        raise InvalidInput(
            {"phone": [_("Text message sign-in codes go to this number; turn two-factor sign-in off first.")]}
        )
    before, before_verified = str(user.phone), user.is_phone_verified
    user = _user_update(user, data, PROFILE_FIELDS, actor=user, action="user.profile_update", request=request)
    if before and not str(user.phone):
        phone_change_notify(user=user, old_phone=before, old_verified=before_verified)
    return user


@transaction.atomic
def user_update(
    *, user: User, data: dict[str, Any], actor: User, request: HttpRequest | Request | None = None
) -> User:
    """A staff member's changes to someone's account."""
    _ensure_may_manage(actor, user)
    if "is_active" in data and not data["is_active"] and user.pk == actor.pk:
        raise InvalidInput({"is_active": [_("You cannot deactivate your own account here.")]})
    return _user_update(user, data, STAFF_EDITABLE_FIELDS, actor=actor, action="user.update", request=request)


# --- The admin's user pages -----------------------------------------------------------------------------
# What the admin's user page edits; the password has a page of its own.
ADMIN_EDITABLE_FIELDS = (
    *STAFF_EDITABLE_FIELDS,
    "email",
    "is_staff",
    "is_superuser",
    "groups",
    "user_permissions",
)


@transaction.atomic
def user_admin_create(
    *,
    email: str,
    username: str,
    full_name: str = "",
    password: str | None,
    actor: User,
    request: HttpRequest | Request | None = None,
) -> User:
    """An account added in the admin; `password` None: one that cannot sign in with a password
    until it is set. Unlike a registration, it gets no role and no email."""
    user = User(email=canonical_email(email), username=username, full_name=full_name)
    if password is None:
        user.set_unusable_password()
    else:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise InvalidInput({"password": exc.messages}) from exc
        user.set_password(password)
    _save(user)
    audit(action="user.create", actor=actor, target=user, request=request)
    return user


@transaction.atomic
def user_admin_update(
    *, user: User, data: dict[str, Any], actor: User, request: HttpRequest | Request | None = None
) -> User:
    """Staff's changes on the admin's user page, validated by its form: besides what `user_update`
    takes, the address, the staff and superuser flags, the roles (`groups`) and direct permissions.

    The row is read again, locked: `user` may be the form's instance, its changes not saved yet.
    Naming `phone` unverifies the number, even one spelled differently but the same: only its
    owner verifies a number, by typing back a code.
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    if "email" in data:
        data = {**data, "email": canonical_email(data["email"])}
    fields = [field for field in ADMIN_EDITABLE_FIELDS if field in data]
    before = snapshot(user, fields)
    relations = [field for field in fields if User._meta.get_field(field).many_to_many]
    update_fields = [field for field in fields if field not in relations]
    for field in update_fields:
        setattr(user, field, data[field])
    if "phone" in data and user.phone_verified_at is not None:
        before.update(snapshot(user, ["phone_verified_at"]))
        user.phone_verified_at = None
        update_fields.append("phone_verified_at")
    if update_fields:
        _save(user, update_fields=update_fields)
    for field in relations:
        getattr(user, field).set(data[field])
    changes = diff(before, user)
    if "is_active" in changes and not user.is_active:
        sessions_end_all(user=user, reason=AuthSession.EndReason.DEACTIVATED)
    if "is_active" in changes and user.is_active:
        account_deletion_cancel(user=user)  # staff opened a closed account: it stays
    if changes:
        audit(action="user.update", actor=actor, target=user, changes=changes, request=request)
    return user


@transaction.atomic
def user_activate(*, user: User, actor: User, request: HttpRequest | Request | None = None) -> User:
    """Let a deactivated account sign in again; its old sessions stay ended, and a pending
    erasure of a closed account is called off."""
    account_deletion_cancel(user=user)
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
        changes = {"is_active": [False, True]}
        audit(action="user.activate", actor=actor, target=user, changes=changes, request=request)
    return user


@transaction.atomic
def user_deactivate(*, user: User, actor: User, request: HttpRequest | Request | None = None) -> User:
    """Soft delete: the account stays for history, cannot sign in, and all its tokens die."""
    _ensure_may_manage(actor, user)
    account_deactivate(user=user, actor=actor, request=request)
    return user


def user_deactivate_self(*, user: User, password: str, request: HttpRequest | Request | None = None) -> User:
    """The owner closes the account: see `account_close` (apps/accounts/services/deletion.py)."""
    account_close(user=user, password=password, request=request)
    return user
