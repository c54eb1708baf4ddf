"""The OpenAPI schema is a contract: schemathesis fuzzes every operation it declares, in-process.

Every answer must be documented: no 5xx, only declared status codes and content types, bodies that
match their schema (an error `code` outside the `Error` enum fails here), and input that breaks the
schema refused. The whole schema is run twice: anonymously, with whatever credentials schemathesis
makes up, and as a superuser, so that the endpoints behind authentication are explored too.

The cases are derandomized, the same on every run; CONTRACT_MAX_EXAMPLES=500 fuzzes deeper
locally. A failure names the check and prints the request as a curl command.
"""

import os
from io import StringIO

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from hypothesis import HealthCheck, settings
from model_bakery import baker
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.tokens import AccessToken
from schemathesis import checks

from tests.conftest import DEFAULT_PASSWORD

# Requests go through Django's real WSGI handler, which closes the database connection after each
# response: a test wrapped in one transaction would lose it. Each operation starts from flushed
# databases, so what one operation's fuzzing did (a deactivated superuser, say) stays with it.
pytestmark = pytest.mark.django_db(databases="__all__", transaction=True)

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
]


def config(*, with_security_parameters: bool) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            # The same cases on every run, and no example database left in the working tree.
            "seed": 20240601,
            "generation": {
                "max-examples": int(os.environ.get("CONTRACT_MAX_EXAMPLES", 50)),
                "deterministic": True,
                "database": "none",
                "with-security-parameters": with_security_parameters,
            },
            # Each operation is checked on its own; chaining them is not this test's job.
            "phases": {"stateful": {"enabled": False}},
        }
    )


app = WSGIHandler()
# Anonymous callers get made-up Authorization headers (each must be a documented 401).
anonymous_schema = schemathesis.openapi.from_wsgi(
    "/api/schema/", app, config=config(with_security_parameters=True)
)
# The superuser's calls carry a real token; a generated header would only be overwritten, and
# schemathesis would then expect a rejection for "invalid" credentials that were never sent.
superuser_schema = schemathesis.openapi.from_wsgi(
    "/api/schema/", app, config=config(with_security_parameters=False)
)

# The database, its seed data and the superuser live for one operation's whole run, not per example:
# what the fuzzer creates along the way is part of what it explores.
shared_fixtures = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def unthrottled(monkeypatch):
    # Fuzzing sends hundreds of requests a minute; at the real rates most answers would be 429s
    # and the run would check little else. 429 stays declared: the throttles still run. The rates
    # are read once, at import, hence the class attribute rather than a settings override.
    rates = dict.fromkeys(SimpleRateThrottle.THROTTLE_RATES, "1000000/minute")
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)


@pytest.fixture
def world(db):
    """Something for the fuzzer to find: roles, a few accounts, audit entries, login events, and a
    catalog with inactive entries and stock history."""
    from apps.accounts.models import User
    from apps.products.services import category_update, product_update, stock_adjust
    from tests.products.factories import new_category, new_product

    call_command("seed_permissions", stdout=StringIO())
    for n in range(3):
        User.objects.create_user(
            email=f"member{n}@example.com", username=f"member{n}", password=DEFAULT_PASSWORD
        )
    baker.make("logs.AuditLog", action="user.login", _quantity=5)
    baker.make("analytics.LoginEvent", success=True, _quantity=5)
    books, games = new_category(name="Books"), new_category(name="Games")
    category_update(category=new_category(name="Retired"), data={"is_active": False}, actor=None)
    for n in range(4):
        new_product(category=books if n % 2 else games, name=f"Item {n}", sku=f"ITEM-{n}", stock=5 * n)
    stock_adjust(product=new_product(category=books, stock=3), delta=-2, reason="sale", actor=None)
    product_update(product=new_product(category=games, stock=1), data={"is_active": False}, actor=None)


@anonymous_schema.parametrize()
@shared_fixtures
@pytest.mark.usefixtures("unthrottled", "world")
def test_anonymous_callers_get_only_documented_answers(case):
    case.call_and_validate(checks=CHECKS)


@superuser_schema.parametrize()
@shared_fixtures
@pytest.mark.usefixtures("unthrottled", "world")
def test_a_superuser_gets_only_documented_answers(case, superuser):
    # A fresh token per call: an operation that ends sessions (logout, a password change) must not
    # leave every later call with a dead token.
    token = AccessToken.for_user(superuser)
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
