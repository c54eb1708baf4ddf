from celery import shared_task
from django.conf import settings

from apps.logs.services import application_logs_prune


@shared_task(name="logs.prune_application_logs")
def prune_application_logs() -> int:
    return application_logs_prune(older_than_days=settings.APPLICATION_LOG_RETENTION_DAYS)
