"""The pipeline's Celery tasks: each loads by id and calls a service; running one twice is safe."""

from celery import shared_task

from apps.notifications import services


@shared_task(bind=True, name="notifications.deliver", acks_late=True, max_retries=None, ignore_result=True)
def deliver(self, notification_id: int) -> None:
    """Send one notification; a transient failure comes back after its backoff.

    The row counts the attempts and decides when to stop (NOTIFICATION_MAX_ATTEMPTS), so the task
    retries without a limit of its own.
    """
    retry_in = services.notification_deliver(notification_id=notification_id)
    while retry_in is not None and self.request.is_eager:
        # In-process (no broker: the embedded default, tests) there is no queue to wait in, and
        # a Retry would propagate to the caller: the next attempt runs at once.
        retry_in = services.notification_deliver(notification_id=notification_id)
    if retry_in is not None:
        raise self.retry(countdown=retry_in)


@shared_task(name="notifications.requeue_stuck", ignore_result=True)
def requeue_stuck() -> int:
    return services.notifications_requeue_stuck()


@shared_task(name="notifications.prune_read", ignore_result=True)
def prune_read() -> int:
    return services.notifications_prune_read()
