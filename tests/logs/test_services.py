import logging
from datetime import timedelta

import pytest
from django.utils import timezone
from model_bakery import baker

from apps.logs.handlers import DatabaseLogHandler
from apps.logs.models import ApplicationLog, AuditLog
from apps.logs.services import application_logs_prune, audit
from apps.logs.tasks import prune_application_logs

pytestmark = pytest.mark.django_db(databases=["default", "logs"])


def test_audit_records_actor_target_and_changes(user, rf):
    request = rf.post("/", REMOTE_ADDR="198.51.100.7")
    request.request_id = "req-9"
    entry = audit(
        action="user.update", actor=user, target=user, changes={"full_name": ["A", "B"]}, request=request
    )

    stored = AuditLog.objects.using("logs").get(pk=entry.pk)
    assert stored.actor_id == user.pk
    assert (stored.target_type, stored.target_id) == ("accounts.user", str(user.pk))
    assert stored.changes == {"full_name": ["A", "B"]}
    assert (stored.ip, stored.request_id) == ("198.51.100.7", "req-9")


def test_audit_never_stores_secret_values(user):
    entry = audit(
        action="user.password_change", actor=user, changes={"password": ["old", "new"], "api_token": "t"}
    )
    assert entry.changes == {"password": "[redacted]", "api_token": "[redacted]"}


def test_audit_by_the_system_has_no_actor():
    entry = audit(action="tokens.flush", target_type="token_blacklist.outstandingtoken", target_id="")
    assert entry.actor_id is None


def test_the_database_handler_stores_warnings_with_their_traceback():
    logger = logging.getLogger("apps.probe.handler")
    handler = DatabaseLogHandler(level=logging.WARNING)
    logger.addHandler(handler)
    logger.propagate = False  # the root logger's own database handler would store a second copy
    try:
        logger.info("too small to keep")
        try:
            raise ValueError("bad value")
        except ValueError:
            logger.exception("failed to frobnicate %s", "widget")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True

    stored = ApplicationLog.objects.using("logs").get()
    assert stored.level == "ERROR"
    assert stored.message == "failed to frobnicate widget"
    assert stored.logger == "apps.probe.handler"
    assert "ValueError: bad value" in stored.traceback


def test_client_errors_logged_by_django_are_not_kept(client):
    client.get("/api/v1/does-not-exist/")
    assert not ApplicationLog.objects.filter(logger="django.request").exists()


def test_pruning_deletes_only_records_past_retention(settings):
    settings.APPLICATION_LOG_RETENTION_DAYS = 30
    old = baker.make(ApplicationLog, level="ERROR", _quantity=2)
    ApplicationLog.objects.filter(pk__in=[o.pk for o in old]).update(
        created_at=timezone.now() - timedelta(days=31)
    )
    fresh = baker.make(ApplicationLog, level="ERROR")

    assert prune_application_logs.delay().get() == 2
    assert list(ApplicationLog.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert application_logs_prune(older_than_days=30) == 0


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_an_unreachable_logs_database_neither_raises_nor_recurses(user, database_down, caplog):
    with database_down("logs"):
        assert audit(action="user.login", actor=user) is None
        logging.getLogger("apps.probe").error("still fine")  # the database handler drops it quietly
    assert "Could not write an audit entry (user.login) to the 'logs' database" in caplog.text


def test_requests_for_hosts_we_do_not_serve_are_not_kept(client):
    assert client.get("/health/", HTTP_HOST="evil.example").status_code == 400
    assert not ApplicationLog.objects.exists()
