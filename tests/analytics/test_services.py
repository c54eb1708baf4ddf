import pytest

from apps.analytics.models import LoginEvent
from apps.analytics.services import login_event_create


@pytest.mark.django_db(databases=["default", "analytics"])
def test_login_event_create_stores_the_attempt_in_the_analytics_database():
    event = login_event_create(email="ada@example.com", success=False, ip="203.0.113.9", user_agent="curl/8")
    stored = LoginEvent.objects.using("analytics").get(pk=event.pk)
    assert (stored.email, stored.success, stored.ip, stored.method) == (
        "ada@example.com",
        False,
        "203.0.113.9",
        LoginEvent.Method.PASSWORD,
    )


@pytest.mark.django_db(databases=["default", "analytics"])
def test_overlong_client_values_are_truncated_not_rejected():
    event = login_event_create(email="x" * 300, success=False, user_agent="y" * 2000)
    assert len(event.email) == 254
    assert len(event.user_agent) == 512


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_an_unreachable_analytics_database_loses_the_event_but_does_not_raise(database_down, caplog):
    with database_down("analytics"):
        assert login_event_create(email="ada@example.com", success=True, user_id=1) is None
    assert "Could not write a login event to the 'analytics' database" in caplog.text
    assert "ada@example.com" not in caplog.text
