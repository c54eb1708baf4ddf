"""GET users/me/export/: everything stored about the caller, across the three databases, and no
secret."""

import json
from datetime import timedelta

import pyotp
import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from model_bakery import baker

from apps.accounts.models import RecoveryCode, SMSCode, TwoFactor
from apps.accounts.tokens import recovery_code_hashes
from apps.analytics.models import LoginEvent
from apps.core.encryption import encrypt
from apps.logs.models import AuditLog
from apps.notifications.models import Notification
from tests.api_permissions import Endpoint, EndpointPermissionTests
from tests.bookings import factories

pytestmark = pytest.mark.django_db(databases="__all__")

EXPORT = "/api/v1/users/me/export/"
SECTIONS = {
    "exported_at",
    "max_rows",
    "truncated",
    "profile",
    "roles",
    "sessions",
    "two_factor",
    "phone",
    "deletion",
    "notifications",
    "notification_preferences",
    "audit_trail",
    "login_events",
    "bookings",
    "provider",
}
TOTP_SECRET = pyotp.random_base32()


class TestExportEndpoint(EndpointPermissionTests):
    endpoints = [Endpoint("GET", EXPORT, None)]


@pytest.fixture
def person(sign_in):
    """A provider who also books, with a bit of everything stored about them."""
    user = factories.new_provider(full_name="Ada Lovelace")
    sign_in(user)
    other = factories.new_provider()
    start = timezone.now() - timedelta(days=2)
    factories.new_booking(customer=user, provider=other, start=start, status="completed", notes="Window seat")
    factories.new_booking(customer=factories.new_customer(), provider=user, start=start + timedelta(days=5))
    TwoFactor.objects.create(user=user, totp_secret=encrypt(TOTP_SECRET), totp_enabled_at=timezone.now())
    RecoveryCode.objects.create(user=user, code_hash=recovery_code_hashes(user.pk, "abcd-efgh")[0])
    SMSCode.objects.create(
        user=user,
        purpose=SMSCode.Purpose.PHONE_VERIFICATION,
        phone="+447911123456",
        code_hash="f" * 64,
        expires_at=timezone.now() + timedelta(minutes=5),
    )
    Notification.objects.create(
        recipient=user,
        channel="email",
        key="welcome",
        category="account",
        subject="Welcome",
        body="Hello Ada",
        next_attempt_at=timezone.now(),
    )
    AuditLog.objects.create(actor_id=user.pk, action="user.profile_update", changes={"full_name": ["A", "B"]})
    LoginEvent.objects.create(user_id=user.pk, email=user.email, success=True, ip="10.0.0.1")
    return user


def test_every_section_is_there(api, person):
    response = api(person).get(EXPORT)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == SECTIONS
    assert body["profile"]["email"] == person.email
    assert body["roles"] == ["provider"]
    assert len(body["sessions"]) == 1
    assert body["two_factor"]["methods"] == ["totp"] and body["two_factor"]["recovery_codes_left"] == 1
    assert body["phone"]["texted_codes"][0]["phone"] == "+447911123456"
    assert body["notifications"][0]["body"] == "Hello Ada"
    assert any(entry["action"] == "user.profile_update" for entry in body["audit_trail"])
    assert body["login_events"][0]["ip"] == "10.0.0.1"
    assert [b["notes"] for b in body["bookings"]["as_customer"]] == ["Window seat"]
    assert len(body["bookings"]["as_provider"]) == 1
    assert body["provider"]["time_zone"] and body["provider"]["working_hours"]
    assert body["truncated"] == []


def _keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in _keys(item)}
    if isinstance(value, list):
        return {key for item in value for key in _keys(item)}
    return set()


def test_no_secret_appears(api, person):
    response = api(person).get(EXPORT)
    names = {name.lower() for name in _keys(response.json())}
    secret_names = {
        "password",
        "totp_secret",
        "totp_pending_secret",
        "code_hash",
        "token_hash",
        "token",
        "jti",
    }
    assert names.isdisjoint(secret_names)
    text = response.content.decode()
    person.refresh_from_db()
    stored_secret = TwoFactor.objects.get(user=person).totp_secret
    for value in (person.password, TOTP_SECRET, stored_secret, "f" * 64):
        assert value not in text


def test_is_audited(api, person):
    api(person).get(EXPORT)
    assert AuditLog.objects.filter(action="user.export", actor_id=person.pk).exists()


def test_lists_are_capped_and_say_so(api, person, settings):
    settings.ACCOUNT_EXPORT_MAX_ROWS = 1
    AuditLog.objects.create(actor_id=person.pk, action="user.login")
    body = api(person).get(EXPORT).json()
    assert len(body["audit_trail"]) == 1
    assert "audit_trail" in body["truncated"]
    assert body["max_rows"] == 1


def _queries(call) -> dict[str, int]:
    with (
        CaptureQueriesContext(connections["default"]) as default,
        CaptureQueriesContext(connections["logs"]) as logs,
        CaptureQueriesContext(connections["analytics"]) as analytics,
    ):
        assert call().status_code == 200
    return {"default": len(default), "logs": len(logs), "analytics": len(analytics)}


def test_queries_do_not_grow_with_the_rows(api, person):
    client = api(person)  # three exports: within the hour's budget
    client.get(EXPORT)  # warm the caches
    few = _queries(lambda: client.get(EXPORT))
    for n in range(5):
        AuditLog.objects.create(actor_id=person.pk, action="user.login")
        LoginEvent.objects.create(user_id=person.pk, email=person.email, success=True)
        baker.make(
            Notification,
            recipient=person,
            channel="in_app",
            key="welcome",
            category="account",
            next_attempt_at=timezone.now(),
        )
        factories.new_booking(
            customer=person, provider=factories.new_provider(), start=timezone.now() - timedelta(days=10 + n)
        )
    assert _queries(lambda: client.get(EXPORT)) == few


def test_is_throttled(api, make_user):
    client = api(make_user())
    for _ in range(3):
        assert client.get(EXPORT).status_code == 200
    assert client.get(EXPORT).status_code == 429


def test_answers_json(api, make_user):
    body = api(make_user()).get(EXPORT).content
    assert json.loads(body)["provider"] is None
