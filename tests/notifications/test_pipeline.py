"""One pipeline for every message: queued with the change that caused it, sent once after the
commit, retried when the provider stumbles, never lost, never sent twice."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from apps.notifications import channels, services, sms
from apps.notifications.kinds import Kind, NotNeeded
from apps.notifications.models import Category, Channel, Notification, NotificationPreference, SMSTemplate
from apps.notifications.rendering import MASK
from apps.notifications.services import notify
from apps.notifications.tasks import deliver

pytestmark = pytest.mark.django_db(databases="__all__")

Status = Notification.Status


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed(): ...` runs what waits for the commit when the block ends, as production does."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def only(queryset):
    rows = list(queryset)
    assert len(rows) == 1, rows
    return rows[0]


# --- Queued with the change, sent after the commit ---------------------------------------------------
def test_a_message_is_queued_in_the_transaction_and_sent_after_the_commit(make_user, committed):
    user = make_user()
    with committed():
        notify(user=user, key="welcome")
        notification = only(Notification.objects.filter(recipient=user))
        assert notification.status == Status.QUEUED
        assert mail.outbox == []  # nothing leaves before the commit
    notification.refresh_from_db()
    assert notification.status == Status.SENT and notification.sent_at is not None
    assert notification.attempts == 1
    assert [message.to for message in mail.outbox] == [[user.email]]
    assert notification.subject == mail.outbox[0].subject
    assert notification.address == user.email


def test_a_rolled_back_change_sends_nothing_and_leaves_no_row(make_user, committed):
    user = make_user()
    with committed(), pytest.raises(RuntimeError), transaction.atomic():
        notify(user=user, key="welcome")
        raise RuntimeError("the change failed")
    assert not Notification.objects.exists()
    assert mail.outbox == []


def test_one_event_queues_a_message_once_whatever_calls_it_again(make_user, committed):
    user = make_user()
    with committed():
        first = notify(user=user, key="welcome", idempotency_key="user:1:welcome")
        again = notify(user=user, key="welcome", idempotency_key="user:1:welcome")
    assert len(first) == 1 and again == []
    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1


def test_an_unknown_message_or_channel_is_a_programming_error(make_user):
    with pytest.raises(LookupError):
        notify(user=make_user(), key="no_such_message")
    with pytest.raises(ValueError):
        notify(user=make_user(), key="welcome", channels=["pigeon"])


# --- Preferences -------------------------------------------------------------------------------------
def test_a_channel_turned_off_for_a_category_gets_no_copy(make_user, committed):
    user = make_user()
    NotificationPreference.objects.create(
        user=user, category=Category.ACCOUNT, channel=Channel.EMAIL, enabled=False
    )
    with committed():
        assert notify(user=user, key="welcome") == []
    assert mail.outbox == []


def test_transactional_messages_ignore_the_opt_out(make_user, committed):
    user = make_user()
    NotificationPreference.objects.create(
        user=user, category=Category.ACCOUNT, channel=Channel.EMAIL, enabled=False
    )
    with committed():
        notify(user=user, key="password_reset")
    assert len(mail.outbox) == 1


def test_marketing_waits_for_a_yes(make_user, register_kind, committed):
    register_kind(Kind("test_offer", Category.MARKETING, channels=(Channel.IN_APP,)))
    user = make_user()
    assert notify(user=user, key="test_offer") == []
    NotificationPreference.objects.create(
        user=user, category=Category.MARKETING, channel=Channel.IN_APP, enabled=True
    )
    assert len(notify(user=user, key="test_offer")) == 1


# --- Delivery: once, retried, or failed with the reason ----------------------------------------------
def test_a_delivery_task_that_runs_twice_sends_once(make_user, committed):
    user = make_user()
    with committed():
        (notification,) = notify(user=user, key="welcome")
    deliver.delay(notification.pk)
    deliver.apply(args=(notification.pk,))
    assert len(mail.outbox) == 1
    notification.refresh_from_db()
    assert notification.attempts == 1


def test_a_message_another_worker_is_sending_is_left_alone(make_user):
    (notification,) = notify(user=make_user(), key="welcome")
    Notification.objects.filter(pk=notification.pk).update(
        status=Status.SENDING, sending_since=timezone.now()
    )
    deliver.apply(args=(notification.pk,))
    assert mail.outbox == []


def failing(*errors):
    """A channel that raises each error in turn, then sends."""
    remaining = list(errors)
    real_send = channels.send

    def send(**kwargs):
        if remaining:
            raise remaining.pop(0)
        return real_send(**kwargs)

    return send


def test_a_transient_failure_is_retried_until_it_goes_through(make_user, monkeypatch, committed):
    monkeypatch.setattr(channels, "send", failing(channels.DeliveryError("SES 503", transient=True)))
    with committed():
        (notification,) = notify(user=make_user(), key="welcome")
    notification.refresh_from_db()
    assert notification.status == Status.SENT
    assert notification.attempts == 2
    assert len(mail.outbox) == 1


def test_a_message_that_keeps_failing_fails_after_the_last_attempt(
    make_user, monkeypatch, committed, settings
):
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    errors = [channels.DeliveryError("SES 503", transient=True)] * 5
    monkeypatch.setattr(channels, "send", failing(*errors))
    with committed():
        (notification,) = notify(user=make_user(), key="welcome")
    notification.refresh_from_db()
    assert notification.status == Status.FAILED
    assert notification.attempts == 3
    assert notification.last_error == "SES 503"
    assert mail.outbox == []


def test_a_permanent_failure_is_not_retried(make_user, monkeypatch, committed):
    monkeypatch.setattr(channels, "send", failing(channels.DeliveryError("address refused", transient=False)))
    with committed():
        (notification,) = notify(user=make_user(), key="welcome")
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.FAILED, 1)
    assert notification.last_error == "address refused"


def test_a_refused_address_from_the_email_backend_is_permanent(make_user, monkeypatch, committed):
    from anymail.exceptions import AnymailRecipientsRefused
    from django.core.mail import EmailMultiAlternatives

    def refuse(self, *args, **kwargs):
        raise AnymailRecipientsRefused("no such mailbox")

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse)
    with committed():
        (notification,) = notify(user=make_user(), key="welcome")
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.FAILED, 1)
    assert "AnymailRecipientsRefused" in notification.last_error


def test_the_backoff_grows_is_capped_and_jittered(settings):
    settings.NOTIFICATION_RETRY_BASE_SECONDS, settings.NOTIFICATION_RETRY_MAX_SECONDS = 30, 600
    assert 15 <= services.retry_delay(1) <= 30
    assert 120 <= services.retry_delay(4) <= 240
    assert 300 <= services.retry_delay(10) <= 600
    assert len({services.retry_delay(3) for _ in range(50)}) > 1


def test_a_failed_attempt_waits_for_its_backoff(make_user, monkeypatch):
    monkeypatch.setattr(channels, "send", failing(channels.DeliveryError("SES 503", transient=True)))
    (notification,) = notify(user=make_user(), key="welcome")
    assert services.notification_deliver(notification_id=notification.pk) is not None
    notification.refresh_from_db()
    assert notification.status == Status.QUEUED
    assert notification.next_attempt_at > timezone.now()


# --- Rendering -----------------------------------------------------------------------------------------
def test_a_missing_template_fails_the_message_not_the_request(make_user, register_kind, committed):
    register_kind(Kind("test_no_templates", Category.ACCOUNT))
    with committed():
        (notification,) = notify(user=make_user(), key="test_no_templates")
    notification.refresh_from_db()
    assert notification.status == Status.FAILED
    assert "test_no_templates/subject.txt does not exist" in notification.last_error


def test_an_unknown_variable_fails_the_message_and_names_it(make_user, sms_kind, committed):
    SMSTemplate.objects.filter(key="test_sms").update(body="Your code is {{ cdoe }}.")
    with committed():
        (notification,) = notify(user=make_user(), key="test_sms", context={"code": "123456"})
    notification.refresh_from_db()
    assert notification.status == Status.FAILED
    assert "unknown variable 'cdoe'" in notification.last_error
    assert sms.outbox == []


def test_an_inactive_sms_template_fails_its_messages(make_user, sms_kind, committed):
    SMSTemplate.objects.filter(key="test_sms").update(is_active=False)
    with committed():
        (notification,) = notify(user=make_user(), key="test_sms", context={"code": "1"})
    notification.refresh_from_db()
    assert (notification.status, notification.last_error) == (
        Status.FAILED,
        "SMS template 'test_sms' is inactive",
    )


def test_an_sms_is_rendered_from_its_template_and_sent(make_user, sms_kind, committed):
    with committed():
        (notification,) = notify(user=make_user(), key="test_sms", context={"code": "123456"})
    assert [(message.to, message.body) for message in sms.outbox] == [
        ("+447700900123", "Your code is 123456.")
    ]
    notification.refresh_from_db()
    assert notification.status == Status.SENT
    assert notification.provider_message_id == sms.outbox[0].message_id


def test_one_time_links_are_sent_but_never_stored(make_user, committed):
    user = make_user()
    with committed():
        (notification,) = notify(user=user, key="password_reset")
    notification.refresh_from_db()
    sent = mail.outbox[0].body
    assert "reset-password?uid=" in sent
    assert "reset-password?uid=" not in notification.body
    assert MASK in notification.body


def test_a_message_that_lost_its_point_is_not_sent(make_user, committed):
    user = make_user()
    (notification,) = notify(user=user, key="verify_email")
    user.email_verified_at = timezone.now()
    user.save(update_fields=["email_verified_at"])
    with committed():
        pass
    services.notification_deliver(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.status == Status.FAILED
    assert notification.last_error.startswith("not needed")
    assert mail.outbox == []


def test_nothing_is_sent_to_a_deactivated_account(make_user):
    user = make_user()
    (notification,) = notify(user=user, key="welcome")
    user.is_active = False
    user.save(update_fields=["is_active"])
    services.notification_deliver(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.status == Status.FAILED
    assert mail.outbox == []


def test_not_needed_can_be_raised_by_any_kind(make_user, register_kind):
    def gone(notification):
        raise NotNeeded("the booking was cancelled")

    register_kind(Kind("test_gone", Category.BOOKINGS, channels=(Channel.IN_APP,), send_context=gone))
    (notification,) = notify(user=make_user(), key="test_gone")
    services.notification_deliver(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.last_error == "not needed: the booking was cancelled"


# --- The sweep: nothing is lost -------------------------------------------------------------------------
def test_a_message_whose_task_was_lost_is_sent_by_the_sweep(make_user, settings):
    (notification,) = notify(user=make_user(), key="welcome")  # its task never ran: no commit here
    assert services.notifications_requeue_stuck() == 0  # not overdue yet
    Notification.objects.filter(pk=notification.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=settings.NOTIFICATION_STUCK_SECONDS + 1)
    )
    assert services.notifications_requeue_stuck() == 1
    services.notification_deliver(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.status == Status.SENT
    assert len(mail.outbox) == 1


def test_a_message_left_sending_by_a_dead_worker_goes_back_to_the_queue(make_user, settings):
    (notification,) = notify(user=make_user(), key="welcome")
    long_ago = timezone.now() - timedelta(seconds=settings.NOTIFICATION_STUCK_SECONDS + 1)
    Notification.objects.filter(pk=notification.pk).update(status=Status.SENDING, sending_since=long_ago)
    assert services.notifications_requeue_stuck() == 1
    notification.refresh_from_db()
    assert notification.status == Status.QUEUED


def test_the_sweep_leaves_recent_sends_and_finished_messages_alone(make_user):
    user = make_user()
    (sending,) = notify(user=user, key="welcome")
    Notification.objects.filter(pk=sending.pk).update(status=Status.SENDING, sending_since=timezone.now())
    (sent,) = notify(user=user, key="password_reset")
    services.notification_deliver(notification_id=sent.pk)
    assert services.notifications_requeue_stuck() == 0


# --- In-app retention -----------------------------------------------------------------------------------
def test_read_in_app_messages_are_deleted_after_the_retention_period(make_user, settings):
    user = make_user()
    old_read, recent_read, unread = (
        notify(user=user, key="welcome", channels=["in_app"])[0] for _ in range(3)
    )
    for notification in (old_read, recent_read, unread):
        services.notification_deliver(notification_id=notification.pk)
    long_ago = timezone.now() - timedelta(days=settings.NOTIFICATION_READ_RETENTION_DAYS + 1)
    Notification.objects.filter(pk=old_read.pk).update(read_at=long_ago)
    Notification.objects.filter(pk=recent_read.pk).update(read_at=timezone.now())
    assert services.notifications_prune_read() == 1
    assert set(Notification.objects.values_list("pk", flat=True)) == {recent_read.pk, unread.pk}
