"""The inbox and the preferences, as a signed-in client uses them."""

import pytest

from apps.notifications.models import Notification, NotificationPreference
from tests.notifications.factories import in_app_message

pytestmark = pytest.mark.django_db(databases="__all__")

INBOX = "/api/v1/notifications/"
PREFERENCES = "/api/v1/notifications/preferences/"


def test_the_inbox_lists_your_delivered_in_app_messages_newest_first(api, make_user):
    me = make_user()
    older, newer = in_app_message(owner=me), in_app_message(owner=me, read=True)
    in_app_message(make_user)  # someone else's
    response = api(me).get(INBOX)
    assert response.status_code == 200
    body = response.json()
    assert [row["id"] for row in body["results"]] == [newer.pk, older.pk]
    assert body["count"] == 2 and body["unread_count"] == 1
    assert set(body["results"][0]) == {"id", "key", "category", "subject", "body", "created_at", "read_at"}


def test_queued_failed_and_other_channels_stay_out_of_the_inbox(api, make_user):
    me = make_user()
    Notification.objects.create(
        recipient=me, channel="email", key="welcome", category="account", next_attempt_at="2026-01-01T00:00Z"
    )
    assert api(me).get(INBOX).json()["count"] == 0


def test_unread_filters_the_list_but_not_the_unread_count(api, make_user):
    me = make_user()
    unread = in_app_message(owner=me)
    in_app_message(owner=me, read=True)
    body = api(me).get(INBOX, {"unread": "true"}).json()
    assert [row["id"] for row in body["results"]] == [unread.pk]
    assert body["unread_count"] == 1
    assert api(me).get(INBOX, {"unread": "false"}).json()["count"] == 1


def test_a_malformed_filter_is_a_400(api, make_user):
    response = api(make_user()).get(INBOX, {"unread": "perhaps"})
    assert response.status_code == 400
    assert "unread" in response.json()["field_errors"]


def test_marking_a_message_read_is_idempotent(api, make_user):
    me = make_user()
    message = in_app_message(owner=me)
    first = api(me).post(f"{INBOX}{message.pk}/read/").json()
    again = api(me).post(f"{INBOX}{message.pk}/read/").json()
    assert first["read_at"] is not None and first["read_at"] == again["read_at"]


def test_someone_elses_message_cannot_be_read_or_marked(api, make_user):
    theirs = in_app_message(make_user)
    client = api(make_user())
    assert client.get(f"{INBOX}{theirs.pk}/").status_code == 404
    assert client.post(f"{INBOX}{theirs.pk}/read/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_read_all_marks_only_your_unread_messages(api, make_user):
    me, other = make_user(), make_user()
    in_app_message(owner=me), in_app_message(owner=me), in_app_message(owner=me, read=True)
    theirs = in_app_message(owner=other)
    assert api(me).post(f"{INBOX}read-all/").json() == {"marked": 2}
    assert api(me).get(INBOX).json()["unread_count"] == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_inbox_costs_the_same_queries_at_any_page_size(api, make_user, django_assert_max_num_queries):
    me = make_user()
    for _ in range(60):
        in_app_message(owner=me)
    client = api(me)
    client.get(INBOX)  # the permission set and the like are cached from here on
    for size in (5, 50):
        with django_assert_max_num_queries(4):
            response = client.get(INBOX, {"page_size": size})
        assert len(response.json()["results"]) == size


# --- Preferences ---------------------------------------------------------------------------------------
def test_preferences_start_on_except_marketing(api, make_user):
    body = api(make_user()).get(PREFERENCES).json()
    assert body["catalog"] == {"email": True, "sms": True, "in_app": True}
    assert body["marketing"] == {"email": False, "sms": False, "in_app": False}
    assert set(body) == {"account", "bookings", "catalog", "marketing"}


def test_a_patch_changes_only_what_it_names(api, make_user):
    me = make_user()
    body = api(me).patch(PREFERENCES, {"catalog": {"email": False}, "marketing": {"in_app": True}}).json()
    assert body["catalog"] == {"email": False, "sms": True, "in_app": True}
    assert body["marketing"]["in_app"] is True
    again = api(me).patch(PREFERENCES, {"catalog": {"email": True}}).json()
    assert again["catalog"]["email"] is True and again["marketing"]["in_app"] is True
    assert NotificationPreference.objects.filter(user=me).count() == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"gossip": {"email": True}}, "gossip"),
        ({"catalog": {"fax": True}}, "catalog.fax"),
        ({"catalog": {"email": "no"}}, "catalog.email"),
        ({"catalog": True}, "catalog.non_field_errors"),
    ],
)
def test_unknown_names_and_non_booleans_are_a_400_that_changes_nothing(api, make_user, body, field):
    me = make_user()
    response = api(me).patch(PREFERENCES, body)
    assert response.status_code == 400
    assert field in response.json()["field_errors"]
    assert not NotificationPreference.objects.filter(user=me).exists()
