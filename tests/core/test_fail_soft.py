"""After a side database fails to connect, its writes are skipped for a while instead of each
request paying another connect timeout."""

import logging

import pytest
from django.db import IntegrityError

from apps.core import fail_soft
from apps.logs.models import ApplicationLog, AuditLog
from apps.logs.services import audit

pytestmark = pytest.mark.django_db(databases="__all__", transaction=True)


def test_one_failed_connect_pauses_the_database_then_it_is_tried_again(database_down, caplog, monkeypatch):
    with database_down("logs"):
        assert audit(action="user.login") is None
        assert not fail_soft.is_available("logs")
        assert audit(action="user.logout") is None
    assert "Skipped writing an audit entry (user.logout)" in caplog.text

    assert audit(action="user.logout") is None, "still within the pause"
    later = fail_soft._unavailable_until["logs"] + 1
    monkeypatch.setattr(fail_soft.time, "monotonic", lambda: later)
    assert audit(action="user.logout") is not None
    assert AuditLog.objects.filter(action="user.logout").count() == 1


def test_a_bad_row_does_not_pause_the_database():
    def write_a_bad_row():
        raise IntegrityError("duplicate key")

    assert fail_soft.write_fail_soft("logs", write_a_bad_row, what="a bad row") is None
    assert fail_soft.is_available("logs")


def test_the_log_handler_leaves_a_paused_logs_database_alone(database_down):
    with database_down("logs"):
        audit(action="user.login")  # trips the pause
    logging.getLogger("apps.probe").error("while paused")
    assert not ApplicationLog.objects.filter(message="while paused").exists()
