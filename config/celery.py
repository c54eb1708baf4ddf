import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("backend")
# Every Celery option lives in Django settings as CELERY_<NAME>, read from the environment there.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
