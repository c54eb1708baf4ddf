import pytest
from django.apps import apps
from django.db import connections

from apps.accounts.models import User
from apps.analytics.models import LoginEvent
from apps.logs.models import ApplicationLog, AuditLog
from config.db_router import DatabaseRouter

router = DatabaseRouter()


def tables_of(app_label: str) -> set[str]:
    return {
        model._meta.db_table for model in apps.get_app_config(app_label).get_models(include_auto_created=True)
    }


@pytest.mark.parametrize(
    ("model", "alias"),
    [(LoginEvent, "analytics"), (AuditLog, "logs"), (ApplicationLog, "logs"), (User, "default")],
)
def test_reads_and_writes_go_to_the_models_own_database(model, alias):
    assert router.db_for_read(model) == alias
    assert router.db_for_write(model) == alias


def test_each_database_migrates_only_its_own_apps():
    assert router.allow_migrate("analytics", "analytics")
    assert not router.allow_migrate("default", "analytics")
    assert not router.allow_migrate("analytics", "accounts")
    assert not router.allow_migrate("analytics", "contenttypes")
    assert router.allow_migrate("logs", "logs")
    assert not router.allow_migrate("logs", "auth")
    assert router.allow_migrate("default", "auth")


def test_relations_are_allowed_only_inside_one_database():
    user, other_user = User(), User()
    assert router.allow_relation(user, other_user)
    assert not router.allow_relation(user, LoginEvent())
    assert not router.allow_relation(AuditLog(), LoginEvent())
    assert router.allow_relation(AuditLog(), ApplicationLog())


@pytest.mark.django_db(databases="__all__")
def test_after_migrating_each_database_holds_exactly_its_own_tables():
    analytics_tables = tables_of("analytics")
    logs_tables = tables_of("logs")
    found = {
        alias: set(connections[alias].introspection.table_names())
        for alias in ("default", "analytics", "logs")
    }

    assert found["analytics"] - {"django_migrations"} == analytics_tables
    assert found["logs"] - {"django_migrations"} == logs_tables
    assert not found["default"] & (analytics_tables | logs_tables)
    assert {"accounts_user", "auth_group", "django_content_type"} <= found["default"]


@pytest.mark.django_db(databases="__all__")
def test_side_database_rows_are_written_to_and_read_from_their_own_database():
    event = LoginEvent.objects.create(email="ada@example.com", success=True)
    assert event._state.db == "analytics"
    assert LoginEvent.objects.using("analytics").filter(pk=event.pk).exists()
    with connections["default"].cursor() as cursor:
        assert "analytics_loginevent" not in connections["default"].introspection.table_names(cursor)


def test_no_request_is_wrapped_in_a_transaction_services_own_theirs():
    # A service must be able to commit a decision (a revoked token family) and still answer an error.
    assert not any(connections[alias].settings_dict["ATOMIC_REQUESTS"] for alias in connections)
