"""Moving phone verifications into SMS codes (accounts 0010-0012) keeps every pending code working.

Each test migrates the database back to before the move, makes rows there with the models of that
time, migrates forward and checks the rows, the codes and the SMS still queued for them; then
(`reverse`) back again. The database ends at the latest migrations whatever happens.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django.utils.crypto import salted_hmac

from apps.accounts.models import SMSCode, User
from apps.accounts.services import phone_verify
from apps.accounts.services.sms_codes import sms_code_make
from apps.core.errors import InvalidInput

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

BEFORE = [("accounts", "0009_two_factor_challenge")]
AFTER = [("accounts", "0012_delete_phoneverification")]
MOBILE = "+447911123456"
OTHER_MOBILE = "+447400123456"


def migrate(targets):
    """Migrate the default database to `targets`; the models of that state."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def before():
    """The models before the move; afterwards every app is at its latest migration again."""
    try:
        yield migrate(BEFORE)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def old_hash(verification_id: int, phone: str, code: str) -> str:
    """How a phone verification's code was hashed before the move (a copy, so that a change to
    apps.accounts.tokens cannot make this test agree with itself)."""
    message = f"{verification_id}|{phone}|{code}"
    return salted_hmac("apps.accounts.tokens.phone_code", message, algorithm="sha256").hexdigest()


def make_user(models, email: str):
    return models.get_model("accounts", "User").objects.create(
        email=email, username=email.split("@")[0], password="!", email_verified_at=timezone.now()
    )


def verification(models, user, *, phone=MOBILE, code=None, **fields):
    """A phone verification as the former table kept it; with `code`, as if texted just now."""
    now, used_at = timezone.now(), fields.pop("used_at", None)
    row = models.get_model("accounts", "PhoneVerification").objects.create(
        user_id=user.pk, phone=phone, expires_at=now + timedelta(minutes=10), **fields
    )
    if code is not None:
        row.code_hash, row.code_sent_at, row.used_at = old_hash(row.pk, phone, code), now, used_at
        row.save(update_fields=["code_hash", "code_sent_at", "used_at"])
    return row


def snapshot(row, sent_at_field: str) -> tuple:
    return (
        row.user_id,
        str(row.phone),
        row.code_hash,
        row.created_at,
        getattr(row, sent_at_field),
        row.expires_at,
        row.attempts,
        row.used_at,
    )


def test_every_verification_becomes_a_phone_verification_code_with_all_it_had(before):
    pending, used = make_user(before, "pending@example.com"), make_user(before, "used@example.com")
    rows = [
        verification(before, pending, code="123456", attempts=2),
        verification(before, used, phone=OTHER_MOBILE, code="654321", attempts=1, used_at=timezone.now()),
        verification(before, make_user(before, "queued@example.com")),  # its SMS not sent yet
    ]
    expected = {row.pk: snapshot(row, "code_sent_at") for row in rows}
    migrate(AFTER)
    codes = SMSCode.objects.filter(purpose=SMSCode.Purpose.PHONE_VERIFICATION)
    assert {code.legacy_verification_id: snapshot(code, "sent_at") for code in codes} == expected
    assert {code.challenge_id for code in codes} == {None}


def test_a_pending_code_texted_before_the_move_still_verifies_the_number(before):
    user = make_user(before, "ada@example.com")
    verification(before, user, code="123456", attempts=1)
    migrate(AFTER)
    user = User.objects.get(pk=user.pk)
    with pytest.raises(InvalidInput) as wrong:
        phone_verify(user=user, code="000000")
    assert wrong.value.field_errors == {"code": ["This code is wrong; 3 tries left."]}
    phone_verify(user=user, code="123456")
    user.refresh_from_db()
    assert (str(user.phone), user.is_phone_verified) == (MOBILE, True)
    assert SMSCode.objects.get(user_id=user.pk).used_at is not None


def test_an_sms_queued_before_the_move_is_sent_for_its_verification_not_for_a_code_of_the_same_id(before):
    """The ids of the two former tables overlap: a message naming a verification's id must find
    that verification, never another code that has the same id now."""
    user, other = make_user(before, "ada@example.com"), make_user(before, "bob@example.com")
    queued = verification(before, user)  # asked for; its SMS has not gone out yet
    other.phone, other.phone_verified_at = OTHER_MOBILE, timezone.now()
    other.save(update_fields=["phone", "phone_verified_at"])
    before.get_model("accounts", "SMSCode").objects.create(
        id=queued.pk,
        user_id=other.pk,
        purpose="password_reset",
        phone=OTHER_MOBILE,
        expires_at=timezone.now() + timedelta(minutes=5),
    )
    migrate(AFTER)
    context = {"verification_id": queued.pk, "phone": MOBILE}
    made = sms_code_make(kind="phone_verification", user_id=user.pk, context=context)
    assert made is not None and made.minutes == 10
    assert SMSCode.objects.get(user_id=other.pk).code_hash == "", "the other code was not texted"
    phone_verify(user=User.objects.get(pk=user.pk), code=made.code)
    assert User.objects.get(pk=user.pk).is_phone_verified


def test_backwards_the_codes_go_back_with_their_former_ids(before):
    moved = verification(before, make_user(before, "ada@example.com"), code="123456", attempts=1)
    expected_moved = snapshot(moved, "code_sent_at")
    migrate(AFTER)
    newer = SMSCode.objects.create(
        user=User.objects.create(email="bob@example.com", username="bob"),
        purpose=SMSCode.Purpose.PHONE_VERIFICATION,
        phone=OTHER_MOBILE,
        expires_at=timezone.now() + timedelta(minutes=10),
    )
    expected_newer = snapshot(newer, "sent_at")
    models = migrate(BEFORE)
    PhoneVerification = models.get_model("accounts", "PhoneVerification")
    assert snapshot(PhoneVerification.objects.get(pk=moved.pk), "code_sent_at") == expected_moved
    back = PhoneVerification.objects.get(user_id=newer.user_id)
    assert snapshot(back, "code_sent_at") == expected_newer
    assert not models.get_model("accounts", "SMSCode").objects.filter(purpose="phone_verification").exists()
    fresh = verification(models, make_user(models, "cy@example.com"))
    assert fresh.pk > max(moved.pk, back.pk), "new ids are drawn above the ones given back"
