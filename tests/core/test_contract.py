"""The OpenAPI schema is a contract: schemathesis fuzzes every operation it declares, in-process.

Every answer must be documented, and every check schemathesis has runs (the few that cannot hold
for a correct server are switched off in CHECKS, each with its reason): no 5xx, only declared
status codes, content types and headers, bodies that match their schema (an error `code` outside
the `Error` enum fails here), input that breaks the schema refused, and a token the server ignored
where one is required. The whole schema is run three times: anonymously, with whatever
credentials schemathesis makes up; as a plain user without permissions; and as a superuser. The
two signed-in callers carry tokens minted the way a sign-in mints them, with a session row, so
the cached sign-in path (session lookup, permission set) is what gets fuzzed. A stateful run then
chains the operations (list, then read, change or delete what was listed) as the superuser.

The seed changes from run to run, so each run explores new cases; a failure names it ("Replay
this run with SCHEMATHESIS_SEED=…"), and `SCHEMATHESIS_SEED=<seed>` replays that run. `make fuzz`
runs the same tests with SCHEMATHESIS_MAX_EXAMPLES=1000 (the nightly size); the default, 20
generated cases an operation for each caller, keeps CI bounded. The coverage phase comes on top at
every size for the superuser: the deterministic cases schemathesis derives from each parameter and
body field (boundaries, wrong types, missing and unexpected properties, unexpected methods), several
dozen an operation, and most of what a run sends. The two refused callers (anonymous, and the user
without permissions) get them at the nightly size only: their answers are 401s and 403s decided
before the input is read, which the generated cases check as well, at a third of the time. A failure
prints the request as a curl command.
"""

import os
import secrets
from io import StringIO

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from hypothesis import HealthCheck, seed, settings
from model_bakery import baker
from rest_framework.throttling import SimpleRateThrottle

from tests.conftest import DEFAULT_PASSWORD

# Requests go through Django's real WSGI handler, which closes the database connection after each
# response: a test wrapped in one transaction would lose it. Each operation starts from flushed
# databases, so what one operation's fuzzing did (a deactivated superuser, say) stays with it.
pytestmark = pytest.mark.django_db(databases="__all__", transaction=True)

# Under pytest-xdist every process takes its seed from the run's id, so that a run has one seed.
_RUN_ID = os.environ.get("PYTEST_XDIST_TESTRUNUID")
SEED = int(
    os.environ.get("SCHEMATHESIS_SEED") or (int(_RUN_ID[:8], 16) if _RUN_ID else secrets.randbelow(2**32))
)
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", 20))
# A stateful scenario is a chain of up to `max-steps` calls: fewer of them cover as much.
STATEFUL_EXAMPLES = max(10, MAX_EXAMPLES // 5)
# The coverage phase for the callers whose answers are mostly refusals: at the nightly size only.
REFUSED_CALLERS_COVERAGE = MAX_EXAMPLES >= 100

CHECKS = {
    # Valid input can still be refused: a booking on a taken slot, a duplicate email, stock that
    # would go negative, a wrong password or code are 400s and 409s the schema cannot foresee.
    "positive_data_acceptance": {"enabled": False},
    # `max_response_time` stays unset (it is off without a limit): a time limit would measure the
    # machine (two shared cores), not the API.
}


# Per operation: the checks that cannot hold for it, each with its reason.
OPERATIONS = [
    # DELETE users/{id}/ deactivates the account rather than erasing it: the user's bookings and
    # audit entries still name it, staff still read it (`is_active: false`) and may reactivate it,
    # so reading it or its roles after the DELETE is a 200 by design, not a use after free.
    {"include-path-regex": r"^/api/v1/users/\{id\}/", "checks": {"use_after_free": {"enabled": False}}},
]


def config(*, with_security_parameters: bool, coverage: bool = True) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "checks": CHECKS,
            "operations": OPERATIONS,
            "generation": {
                "max-examples": MAX_EXAMPLES,
                # No example database left in the working tree; the seed alone replays a run.
                "database": "none",
                "with-security-parameters": with_security_parameters,
            },
            "phases": {"coverage": {"enabled": coverage}, "stateful": {"max-steps": 8}},
        }
    )


app = WSGIHandler()
# Anonymous callers get made-up Authorization headers (each must be a documented 401).
anonymous_schema = schemathesis.openapi.from_wsgi(
    "/api/schema/", app, config=config(with_security_parameters=True, coverage=REFUSED_CALLERS_COVERAGE)
)
# The signed-in callers' calls carry a real token; a generated header would only be overwritten,
# and schemathesis would then expect a rejection for "invalid" credentials that were never sent.
signed_in_schema = schemathesis.openapi.from_wsgi(
    "/api/schema/", app, config=config(with_security_parameters=False)
)
permissionless_schema = schemathesis.openapi.from_wsgi(
    "/api/schema/", app, config=config(with_security_parameters=False, coverage=REFUSED_CALLERS_COVERAGE)
)

# The database, its seed data and the callers live for one operation's whole run, not per example:
# what the fuzzer creates along the way is part of what it explores.
shared_fixtures = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


def replayable(call):
    """Run `call`; a failure says which seed to replay it with."""
    try:
        return call()
    except BaseException as exc:
        exc.add_note(f"Replay this run with SCHEMATHESIS_SEED={SEED}.")
        raise


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


@pytest.fixture
def plain_user(make_user):
    """A signed-in user holding no permission at all: most answers are 403s and 404s."""
    return make_user()


def session_headers(user) -> dict:
    """A token pair minted as a sign-in mints it, with a session row, fresh for every call: an
    operation that ends sessions (logout, a password change) must not leave later calls with a dead
    token."""
    from apps.accounts.services import session_start

    return {"Authorization": f"Bearer {session_start(user=user)['access']}"}


@anonymous_schema.parametrize()
@shared_fixtures
@pytest.mark.usefixtures("unthrottled", "world")
def test_anonymous_callers_get_only_documented_answers(case):
    replayable(case.call_and_validate)


@permissionless_schema.parametrize()
@shared_fixtures
@pytest.mark.usefixtures("unthrottled", "world")
def test_a_user_without_permissions_gets_only_documented_answers(case, plain_user):
    replayable(lambda: case.call_and_validate(headers=session_headers(plain_user)))


@signed_in_schema.parametrize()
@shared_fixtures
@pytest.mark.usefixtures("unthrottled", "world")
def test_a_superuser_gets_only_documented_answers(case, superuser):
    replayable(lambda: case.call_and_validate(headers=session_headers(superuser)))


@pytest.mark.usefixtures("unthrottled", "world")
def test_chained_calls_of_a_superuser_get_only_documented_answers(superuser):
    class Workflow(signed_in_schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": session_headers(superuser)}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            # As `call_and_validate` does: the checks are told which headers were sent, so that
            # `ignored_auth` knows the token is the caller's own and replays the call without it
            # (the state machine would leave them out, and the token would pass for a made-up one).
            case.validate_response(
                response,
                additional_checks=additional_checks,
                headers=kwargs.get("headers"),
                transport_kwargs=kwargs or None,
                recorder=self.recorder,
            )

    seed(SEED)(Workflow)
    replayable(
        lambda: Workflow.run(
            settings=settings(
                max_examples=STATEFUL_EXAMPLES,
                stateful_step_count=8,
                deadline=None,
                database=None,
                derandomize=False,
                suppress_health_check=list(HealthCheck),
            )
        )
    )
