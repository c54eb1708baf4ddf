from celery import shared_task


@shared_task(name="core.ping")
def ping() -> str:
    """Round-trip probe for the broker and workers."""
    return "pong"
