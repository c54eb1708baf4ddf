"""Set-up: seeding, the queries of one request counted through Django's test client, signing in,
and checking the plan against the running server."""

import argparse
import json
import time
from collections import defaultdict
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import psycopg

from benchmarks.options import log
from benchmarks.scenarios.bookings import data, search
from benchmarks.scenarios.bookings.common import ALIASES, ME
from benchmarks.scenarios.bookings.plan import Plan
from benchmarks.stack import BENCH_SETTINGS, Gunicorn, Stack, http_call


def seed(stack: Stack, args: argparse.Namespace, password: str) -> tuple[dict, data.SeedTiming]:
    timing = data.SeedTiming()
    began = time.perf_counter()
    stack.manage("seed_permissions")
    log(
        f"seeding {args.providers} providers, {data.SEED_CUSTOMERS} customers, "
        f"{args.customers} bench customers"
    )
    env = {**stack.env(), "BENCH_SEED": data.people_spec(args, password)}
    people = json.loads(stack.manage("shell", "-c", data.SEED_PEOPLE, env=env).strip().splitlines()[-1])
    timing.people_s = round(time.perf_counter() - began, 1)
    log("seeding bookings (INSERT ... SELECT FROM generate_series), then indexes and exclusion constraints")
    with psycopg.connect(stack.databases.url("default"), autocommit=True) as conn:
        data.seed_bookings(
            conn,
            customers=people["customers"],
            base=datetime.now(UTC).date(),
            timing=timing,
            probe_customer=people["bench"][-1]["id"],
        )
    log(
        f"{timing.bookings:,} bookings: insert {timing.insert_s} s, indexes {timing.index_s} s, "
        f"constraints {timing.constraints_s} s; VACUUM (ANALYZE)"
    )
    began = time.perf_counter()
    stack.databases.vacuum_analyze("default")
    timing.vacuum_s = round(time.perf_counter() - began, 1)
    return people, timing


# Runs inside the measured checkout's `manage.py shell` with the benchmark's settings: each request
# through Django's test client (the full middleware), as a signed-in bench customer, capturing the
# SQL of all three databases. Every request is sent twice and the second counted, so one-time work
# (the permission cache, the first connection) is not: the POSTs book a different slot each time.
QUERY_COUNTS = """
import json, os
from contextlib import ExitStack
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from apps.accounts.models import User
from apps.accounts.services.sessions import session_start

spec = json.loads(os.environ["BENCH_QUERIES"])
token = session_start(user=User.objects.get(pk=spec["customer"]))["access"]
client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {token}")
counted = []
for attempt in (0, 1):
    for item in spec["requests"]:
        with ExitStack() as stack:
            captured = {
                a: stack.enter_context(CaptureQueriesContext(connections[a])) for a in spec["aliases"]
            }
            if item["method"] == "POST":
                body = item["bodies"][attempt]
                response = client.post(item["path"], data=json.dumps(body), content_type="application/json")
            else:
                response = client.get(item["path"])
        if response.status_code != item["expect"]:
            raise SystemExit(f"{item['label']}: {response.status_code} {response.content[:300]!r}")
        if attempt:
            counted.append({
                "label": item["label"],
                "status": response.status_code,
                "queries": {a: [q["sql"] for q in c.captured_queries] for a, c in captured.items()},
            })
print(json.dumps(counted))
"""


def availability_path(provider: int, day: date) -> str:
    return f"/api/v1/providers/{provider}/availability/?date={day.isoformat()}&duration={data.MINUTES}"


def count_queries(stack: Stack, plan: Plan, customer: int) -> dict:
    """Queries per request, by database, for one booking, one conflict, and a busy and an empty day."""
    busy, empty = plan.busy_days[0], plan.empty_days[0]
    requests = [
        {
            "label": "create",
            "method": "POST",
            "path": "/api/v1/bookings/",
            "bodies": [plan.free.pop().body(), plan.free.pop().body()],
            "expect": 201,
        },
        {
            "label": "conflict",
            "method": "POST",
            "path": "/api/v1/bookings/",
            "bodies": [plan.taken[0].body()] * 2,
            "expect": 409,
        },
        {
            "label": "availability busy day",
            "method": "GET",
            "path": availability_path(busy[0], busy[1]),
            "expect": 200,
        },
        {
            "label": "availability empty day",
            "method": "GET",
            "path": availability_path(*empty),
            "expect": 200,
        },
        {"label": "users/me", "method": "GET", "path": ME, "expect": 200},
        search.query_item(plan),
    ]
    spec = {"customer": customer, "aliases": list(ALIASES), "requests": requests}
    env = {**stack.env(BENCH_SETTINGS), "BENCH_QUERIES": json.dumps(spec)}
    counted = json.loads(stack.manage("shell", "-c", QUERY_COUNTS, env=env).strip().splitlines()[-1])
    return {
        item["label"]: {
            "status": item["status"],
            "counts": {alias: len(queries) for alias, queries in item["queries"].items()},
            "total": sum(len(queries) for queries in item["queries"].values()),
            "default_sql": item["queries"]["default"],
            "other_sql": {a: q for a, q in item["queries"].items() if a != "default" and q},
        }
        for item in counted
    } | {
        "busy_day": f"provider {busy[0]}, {busy[1]} ({busy[2]} active bookings)",
        "empty_day": f"provider {empty[0]}, {empty[1]}",
    }


def overlap_checks(sql: list[str]) -> int:
    """The overlap pre-checks among a booking's queries: SELECTs of active bookings in a time range."""
    return sum(
        s.lstrip().upper().startswith("SELECT")
        and '"bookings_booking"' in s
        and "IN ('pending', 'confirmed')" in s
        for s in sql
    )


def sign_in(server: Gunicorn, bench: list[dict], password: str) -> dict[int, str]:
    """Each bench customer's access token, from the API's own login (so it has a real session)."""
    tokens = {}
    for person in bench:
        status, body = http_call(
            server.port, "POST", "/api/v1/auth/login/", {"email": person["email"], "password": password}
        )
        if status != 200:
            raise RuntimeError(
                f"login of {person['email']} answered {status}: {body[:300]!r}\n{server.log_tail()}"
            )
        tokens[person["id"]] = json.loads(body)["access"]
    return tokens


def check_plan(server: Gunicorn, plan: Plan, token: str, sample: int = 20) -> int:
    """The API must agree with the plan: on busy days, every planned free slot among its free slots
    and no booked time among them. Stops the run if not; returns how many days were checked."""
    free = defaultdict(set)
    for slot in plan.free:
        free[slot.provider].add(slot.start)
    taken = defaultdict(set)
    for slot in plan.taken:
        taken[slot.provider].add(slot.start)
    headers = {"Authorization": f"Bearer {token}"}
    for provider, day, _count in plan.busy_days[:sample]:
        status, body = http_call(server.port, "GET", availability_path(provider, day), headers=headers)
        if status != 200:
            raise RuntimeError(f"availability answered {status}: {body[:300]!r}")
        answered = {datetime.fromisoformat(s["start"]).astimezone(UTC) for s in json.loads(body)["slots"]}
        tz = plan.providers[provider].tz
        mine = {s for s in free[provider] if s.astimezone(ZoneInfo(tz)).date() == day}
        if not mine <= answered or answered & taken[provider]:
            raise RuntimeError(
                f"availability of provider {provider} on {day} disagrees with the plan: "
                f"planned free but refused {sorted(mine - answered)[:3]}, booked but offered "
                f"{sorted(answered & taken[provider])[:3]}"
            )
    return min(sample, len(plan.busy_days))
