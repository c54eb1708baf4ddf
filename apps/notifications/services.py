"""The notification pipeline's writes: `notify()` for every app, delivery for the task, and the
inbox and preference changes for the API.

    notify(user=user, key="low_stock", context={"product_id": 7}, idempotency_key="stock:7:crossed")

`notify` writes one `queued` row per channel in the caller's transaction and queues one delivery
task per row once that transaction commits; a rollback leaves neither. Delivery locks the row,
moves it to `sending` and commits before calling the provider, so a second run of the same task
(acks_late redelivery, the sweep, a duplicate) finds nothing queued and sends nothing. A worker
that dies mid-send leaves the row `sending`; the sweep puts it back in the queue once it has been
sending for longer than a task may run. The one case that can still send twice is a worker lost
between the provider accepting a message and the row recording it: no email or SMS provider
takes an idempotency key, so that window cannot be closed from here.
"""

import logging
import random
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.notifications import channels, kinds, rendering
from apps.notifications.models import Channel, Notification, NotificationPreference
from apps.notifications.selectors import preferences_for

if TYPE_CHECKING:
    from apps.accounts.models import User

logger = logging.getLogger(__name__)

Status = Notification.Status


def _queue_delivery(notification_id: int, *, countdown: int = 0) -> None:
    from apps.notifications.tasks import deliver  # the task calls back into this module

    # robust: the change that caused the message has committed; a broker outage must not make
    # it a 500. The row stays queued and the sweep sends it later.
    if countdown:
        transaction.on_commit(
            lambda: deliver.apply_async((notification_id,), countdown=countdown), robust=True
        )
    else:
        transaction.on_commit(lambda: deliver.delay(notification_id), robust=True)


def notify(
    *,
    user: "User",
    key: str,
    context: dict[str, Any] | None = None,
    channels: list[str] | tuple[str, ...] | None = None,
    idempotency_key: str | None = None,
    delay_seconds: int = 0,
) -> list[Notification]:
    """Queue the message `key` to `user` on `channels` (the kind's own by default), minus the
    channels the user turned off for its category unless the kind is transactional, minus those
    with no address (no verified phone). With `idempotency_key`, each channel's copy is queued
    once ever: asking again returns nothing new. `context` must be JSON: ids and plain values.

    With `delay_seconds`, delivery waits that long (a Celery countdown; the row is due then), so
    the sender can still withdraw it (`notifications_withdraw`) or its kind's `send_context` find
    it no longer needed. Tasks that run in-process (no broker) do not wait."""
    kind = kinds.get(key)
    context = dict(context or {})
    wanted = list(dict.fromkeys(channels or kind.channels))
    if unknown := set(wanted) - set(Channel.values):
        raise ValueError(f"Unknown channels {sorted(unknown)}")
    if not kind.transactional:
        enabled = preferences_for(user)[kind.category]
        wanted = [channel for channel in wanted if enabled[channel]]
    created = []
    for channel in wanted:
        address = kind.address(user, context, channel)
        if address is None:
            continue
        notification = Notification(
            recipient=user,
            channel=channel,
            key=key,
            category=kind.category,
            address=address,
            context=context,
            idempotency_key=f"{idempotency_key}:{channel}" if idempotency_key else None,
            next_attempt_at=timezone.now() + timedelta(seconds=delay_seconds),
        )
        try:
            with transaction.atomic():
                notification.save()
        except IntegrityError:
            if (
                idempotency_key
                and Notification.objects.filter(idempotency_key=notification.idempotency_key).exists()
            ):
                continue  # queued by an earlier call for the same event
            raise
        _queue_delivery(notification.pk, countdown=delay_seconds)
        created.append(notification)
    return created


def notifications_withdraw(*, idempotency_keys: list[str], reason: str) -> int:
    """Make sure the messages with these keys that have not gone out never will; how many were
    withdrawn. A row still queued ends `failed` ("withdrawn: <reason>"); one a delivery task has
    claimed (`sending`) or sent is left alone. The update waits for a claim in progress, which
    holds the row's lock, so each row is either withdrawn here or delivered there, never both."""
    return Notification.objects.filter(idempotency_key__in=idempotency_keys, status=Status.QUEUED).update(
        status=Status.FAILED, last_error=f"withdrawn: {reason}"[:2000]
    )


# --- Delivery (the task's half) --------------------------------------------------------------------
def _claim(notification_id: int) -> Notification | None:
    """Lock the row; if it is queued and due, mark it sending and commit. None: nothing to do."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update()
            .select_related("recipient")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None or notification.status != Status.QUEUED:
            return None
        notification.status = Status.SENDING
        notification.attempts += 1
        notification.sending_since = timezone.now()
        notification.save(update_fields=["status", "attempts", "sending_since"])
    return notification


def _finish(notification: Notification, **changes: Any) -> None:
    # Only the claim that moved the row to `sending` may move it on.
    Notification.objects.filter(pk=notification.pk, status=Status.SENDING).update(
        sending_since=None, **changes
    )


def retry_delay(attempts: int) -> int:
    """Seconds before attempt `attempts + 1`: exponential, capped, jittered (half to all of it)."""
    ceiling = min(
        settings.NOTIFICATION_RETRY_MAX_SECONDS,
        settings.NOTIFICATION_RETRY_BASE_SECONDS * 2 ** (attempts - 1),
    )
    return max(1, round(random.uniform(ceiling / 2, ceiling)))  # noqa: S311 - jitter, not a secret


def notification_deliver(*, notification_id: int) -> int | None:
    """Send one queued notification. Returns the seconds to wait before the next attempt when a
    transient failure leaves it queued, else None (sent, failed, or nothing to do)."""
    notification = _claim(notification_id)
    if notification is None:
        return None
    user = notification.recipient
    try:
        kind = kinds.get(notification.key)
        if not user.is_active and not kind.reaches_inactive:
            raise rendering.RenderError("the recipient's account is inactive")
        context = {"user": user, "site_name": settings.SITE_NAME, **notification.context}
        stored_context = None
        if kind.send_context is not None:
            extra = kind.send_context(notification)
            if kind.secret:
                stored_context = {**context, **rendering.masked(extra, kind.secret)}
            context = {**context, **extra}
        message, stored = rendering.render(
            key=notification.key, channel=notification.channel, context=context, stored_context=stored_context
        )
    except kinds.NotNeeded as exc:
        _finish(notification, status=Status.FAILED, last_error=f"not needed: {exc}"[:2000])
        return None
    except (LookupError, rendering.RenderError) as exc:
        _finish(notification, status=Status.FAILED, last_error=str(exc)[:2000])
        logger.warning("Notification %s failed to render: %s", notification.pk, exc)
        return None
    try:
        provider_id = channels.send(
            channel=notification.channel, address=notification.address, message=message
        )
    except channels.DeliveryError as exc:
        error = str(exc)[:2000]
        if exc.transient and notification.attempts < settings.NOTIFICATION_MAX_ATTEMPTS:
            delay = retry_delay(notification.attempts)
            _finish(
                notification,
                status=Status.QUEUED,
                last_error=error,
                next_attempt_at=timezone.now() + timedelta(seconds=delay),
            )
            logger.warning(
                "Notification %s: attempt %s failed, retry in %ss",
                notification.pk,
                notification.attempts,
                delay,
            )
            return delay
        _finish(notification, status=Status.FAILED, last_error=error)
        logger.warning(
            "Notification %s failed for good after %s attempts", notification.pk, notification.attempts
        )
        return None
    _finish(
        notification,
        status=Status.SENT,
        sent_at=timezone.now(),
        provider_message_id=provider_id[:255],
        subject=stored.subject[:255],
        body=stored.body,
        last_error="",
    )
    return None


def notifications_requeue_stuck(*, limit: int = 500) -> int:
    """Queue again what a lost task or a dead worker left behind; how many were queued.

    A row `sending` for longer than a task may run belongs to a worker that died: back to
    `queued`. A row `queued` and overdue by the same margin lost its task (the broker was down
    when its transaction committed): its due time moves to now, so the next sweep leaves it
    alone while this new task runs. Either way a new delivery task goes out.
    """
    now = timezone.now()
    overdue = now - timedelta(seconds=settings.NOTIFICATION_STUCK_SECONDS)
    with transaction.atomic():
        rows = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(
                Q(status=Status.SENDING, sending_since__lt=overdue)
                | Q(status=Status.QUEUED, next_attempt_at__lt=overdue)
            )
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:limit]
        )
        Notification.objects.filter(pk__in=rows).update(
            status=Status.QUEUED, sending_since=None, next_attempt_at=now
        )
        for notification_id in rows:
            _queue_delivery(notification_id)
    if rows:
        logger.warning("Re-queued %s stuck notifications", len(rows))
    return len(rows)


def notification_resend(*, notification: Notification) -> Notification:
    """A fresh copy of `notification` (same recipient, channel, message and address), queued."""
    with transaction.atomic():
        copy = Notification.objects.create(
            recipient_id=notification.recipient_id,
            channel=notification.channel,
            key=notification.key,
            category=notification.category,
            address=notification.address,
            context=notification.context,
            next_attempt_at=timezone.now(),
        )
        _queue_delivery(copy.pk)
    return copy


# --- The inbox and preferences (the API's half) ----------------------------------------------------
def notification_mark_read(*, notification: Notification) -> Notification:
    """Mark one delivered in-app message read (already read: unchanged)."""
    if notification.read_at is None:
        now = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
        notification.read_at = now
    return notification


def notifications_mark_all_read(*, user: "User") -> int:
    """Mark every delivered, unread in-app message of `user` read; how many were."""
    return Notification.objects.filter(
        recipient=user, channel=Channel.IN_APP, status=Status.SENT, read_at__isnull=True
    ).update(read_at=timezone.now())


@transaction.atomic
def preferences_update(*, user: "User", changes: dict[str, dict[str, bool]]) -> dict[str, dict[str, bool]]:
    """Set the named category/channel choices (others unchanged); the whole matrix after."""
    for category, by_channel in changes.items():
        for channel, enabled in by_channel.items():
            NotificationPreference.objects.update_or_create(
                user=user, category=category, channel=channel, defaults={"enabled": enabled}
            )
    return preferences_for(user)


def notifications_prune_read(*, days: int | None = None) -> int:
    """Delete in-app messages read more than `days` (NOTIFICATION_READ_RETENTION_DAYS) ago."""
    days = settings.NOTIFICATION_READ_RETENTION_DAYS if days is None else days
    deleted, _ = Notification.objects.filter(
        channel=Channel.IN_APP, read_at__lt=timezone.now() - timedelta(days=days)
    ).delete()
    return deleted
