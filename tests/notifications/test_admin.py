"""Staff see every message with its outcome, send one again, and edit the SMS texts."""

import pytest
from django.core import mail

from apps.notifications.models import Notification, SMSTemplate
from apps.notifications.services import notify

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def test_staff_filter_messages_by_status_channel_and_key(admin_client, make_user):
    user = make_user(email="kept@example.com")
    notify(user=user, key="welcome")
    other = make_user(email="other@example.com")
    notify(user=other, key="password_reset")
    response = admin_client.get("/admin/notifications/notification/?key=welcome&status=queued&channel=email")
    assert response.status_code == 200
    assert b"kept@example.com" in response.content
    assert b"other@example.com" not in response.content


def test_messages_are_read_only(admin_client, make_user):
    (notification,) = notify(user=make_user(), key="welcome")
    assert admin_client.get("/admin/notifications/notification/add/").status_code == 403
    change = f"/admin/notifications/notification/{notification.pk}/change/"
    assert admin_client.post(change, {"status": "sent"}).status_code == 403


def test_resend_queues_a_fresh_copy_through_the_pipeline(
    admin_client, make_user, django_capture_on_commit_callbacks
):
    (notification,) = notify(user=make_user(), key="welcome")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/notifications/notification/",
            {"action": "resend", "_selected_action": [notification.pk]},
        )
    assert response.status_code == 302
    copy = Notification.objects.exclude(pk=notification.pk).get()
    assert (copy.key, copy.recipient_id, copy.address) == (
        notification.key,
        notification.recipient_id,
        notification.address,
    )
    assert copy.status == Notification.Status.SENT
    assert len(mail.outbox) == 1


def test_the_built_in_sms_templates_exist(admin_client):
    keys = set(SMSTemplate.objects.values_list("key", flat=True))
    assert {"phone_verification", "2fa_code", "password_reset_code", "booking_reminder"} <= keys


def test_an_sms_template_page_previews_its_text_and_lists_its_variables(admin_client):
    template = SMSTemplate.objects.create(key="test_preview", body="Hi {{ name }}, {{ site_name }} here.")
    response = admin_client.get(f"/admin/notifications/smstemplate/{template.pk}/change/")
    assert response.status_code == 200
    assert b"name, site_name" in response.content
    assert b"Hi [name], Backend here." in response.content


def test_a_broken_sms_template_says_why_in_the_preview(admin_client):
    template = SMSTemplate.objects.create(key="test_broken", body="Hi {% if %}")
    response = admin_client.get(f"/admin/notifications/smstemplate/{template.pk}/change/")
    assert response.status_code == 200
    assert b"is broken" in response.content


def test_an_sms_templates_key_cannot_be_renamed(admin_client):
    template = SMSTemplate.objects.get(key="booking_reminder")
    admin_client.post(
        f"/admin/notifications/smstemplate/{template.pk}/change/",
        {"key": "renamed", "description": "x", "body": "Hello {{ site_name }}", "is_active": "on"},
    )
    template.refresh_from_db()
    assert template.key == "booking_reminder"
    assert template.body == "Hello {{ site_name }}"
