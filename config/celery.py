import os

from celery import Celery
from celery.signals import beat_init, celeryd_init
from kombu import Connection

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("backend")
# Every Celery option lives in Django settings as CELERY_<NAME>, read from the environment there.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

IN_MEMORY_BROKER_MESSAGE = (
    "celery {program}: CELERY_BROKER_URL is not set, so the broker is an in-memory one that lives and "
    "dies with each process and tasks run inside the process that queues them: {consequence}. "
    "Set CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/1) in the environment or in .env, for the "
    "web process, the worker and beat alike."
)


def uses_in_memory_broker() -> bool:
    return Connection(app.conf.broker_url).transport_cls == "memory"


# Checked in Python rather than in the Makefile, so that the answer is the one the settings give,
# .env included. SystemExit, because Celery logs and swallows any Exception a signal handler raises.
@celeryd_init.connect(dispatch_uid="config.refuse_in_memory_broker_worker")
def refuse_to_work_without_a_broker(**kwargs):
    if uses_in_memory_broker():
        raise SystemExit(
            IN_MEMORY_BROKER_MESSAGE.format(
                program="worker", consequence="this worker would never get a task"
            )
        )


@beat_init.connect(dispatch_uid="config.refuse_in_memory_broker_beat")
def refuse_to_schedule_without_a_broker(**kwargs):
    if uses_in_memory_broker():
        raise SystemExit(
            IN_MEMORY_BROKER_MESSAGE.format(
                program="beat", consequence="the tasks beat sends would reach no worker"
            )
        )
