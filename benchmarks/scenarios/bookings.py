"""bookings: making bookings at a fixed rate, and a provider's availability on a busy day.

Seeds 500 providers (six time zones, Mon-Fri hours, some with a lunch gap) and about 200,000
bookings over 35 weeks with PostgreSQL's generate_series (see bookings_data.py), counts the
queries of one booking, one conflicting booking and the availability of a busy and an empty day
through Django's test client, then measures against gunicorn with the production settings:

1. POST /api/v1/bookings/ in open loop at fixed rates, each request a signed-in customer (in
   turn) booking a free slot of a provider (in turn) on a future day, with a share of requests
   for a time that is already booked, which must be a 409;
2. GET /api/v1/providers/{id}/availability/?date=..&duration=60 for busy days, in closed loop
   (C clients) and open loop at a fixed rate, beside the same for empty days;

each beside GET /api/v1/users/me/ in the same run, the stack's fixed cost per signed-in request.

    .venv/bin/python -m benchmarks bookings
    .venv/bin/python -m benchmarks bookings --rates 20 --duration 5 --rounds 1   # a quick look
    .venv/bin/python -m benchmarks bookings --seed-only
"""

import argparse
import dataclasses
import json
import secrets
import statistics
import time
from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from functools import partial
from zoneinfo import ZoneInfo

import psycopg

from benchmarks.loadgen import LoadGenerator, Outcome, Request, Run
from benchmarks.measure import BUSY_THRESHOLD, busy_runs, ok_200, settle
from benchmarks.options import add_stack_options, log, positive_float, positive_int
from benchmarks.probes import CpuMeter
from benchmarks.report import machine, ms, now_utc, print_cpu_table, print_rows, table, write_json
from benchmarks.scenarios import bookings_data as data
from benchmarks.scenarios import bookings_search as search
from benchmarks.scenarios.catalog import rate_list
from benchmarks.stack import BENCH_SETTINGS, Gunicorn, Stack, Target, http_call
from benchmarks.stats import error_counts, latency_ms, summarize, summarize_closed

NAME = "bookings"
SUMMARY = "booking creation at fixed rates (201s and 409s) and busy-day availability, beside users/me/"

# Every request comes from one address and a few users: production's limits (120/minute anonymous,
# 1200/minute per user, 30 logins a minute per address) would answer most of them with 429. Raised;
# the throttles still run on every request, against Redis. The access tokens must outlive the run.
BENCH_ENV = {
    "THROTTLE_ANON_RATE": "1000000/second",
    "THROTTLE_USER_RATE": "1000000/second",
    "THROTTLE_LOGIN_RATE": "1000/minute",
    "JWT_ACCESS_TOKEN_MINUTES": "120",
}
PRODUCTION_THROTTLES = "anon 120/minute, user 1200/minute, login 30/minute"
# The goals this work set itself; reported as met or not, they never change the exit status.
CREATE_P95_GOAL_MS = 50.0
AVAILABILITY_P95_GOAL_MS = 30.0
ME = "/api/v1/users/me/"
ALIASES = ("default", "analytics", "logs")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--providers", type=positive_int, default=500, help="providers to seed (%(default)s)")
    add(
        "--customers",
        type=positive_int,
        default=40,
        help="signed-in customers the new bookings rotate over (%(default)s)",
    )
    add("--workers", type=positive_int, default=2, help="gunicorn sync workers (%(default)s)")
    add(
        "--rates",
        type=rate_list,
        default=[20.0, 50.0],
        help="booking creations per second, open loop (20,50)",
    )
    add(
        "--collisions",
        type=float,
        default=0.1,
        help="share of creations for a time already booked, answered 409 (%(default)s)",
    )
    add("--duration", type=positive_float, default=15.0, help="seconds of each open-loop run (%(default)s)")
    add(
        "--availability-rate",
        type=positive_float,
        default=50.0,
        help="availability requests per second, open loop (%(default)s)",
    )
    add(
        "--clients",
        type=positive_int,
        default=4,
        help="closed-loop clients: 2 per worker keeps both busy with little queue (%(default)s)",
    )
    add(
        "--closed-duration",
        type=positive_float,
        default=10.0,
        help="seconds of each closed-loop run (%(default)s)",
    )
    add(
        "--rounds",
        type=positive_int,
        default=2,
        help="rounds; the order of the requests flips each round (2)",
    )
    add(
        "--wait-idle",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="before each run, wait up to this long for other processes to go quiet; 0: don't (%(default)s)",
    )
    add("--seed-only", action="store_true", help="seed, count the queries, print the timings, and stop")
    search.add_arguments(parser)
    add_stack_options(parser)


# --- Set-up -----------------------------------------------------------------------------------------------
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


def count_queries(stack: Stack, plan: data.Plan, customer: int) -> dict:
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


def check_plan(server: Gunicorn, plan: data.Plan, token: str, sample: int = 20) -> int:
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


# --- Requests ---------------------------------------------------------------------------------------------
class Bookers:
    """Hands out new bookings: the next free slot (providers in turn) for the next customer in turn
    who is free at that time, and every 1/share-th request a time that is already booked."""

    def __init__(self, plan: data.Plan, tokens: dict[int, str], collisions: float):
        self.free = list(reversed(plan.free))  # pop() gives the plan's order
        self.taken = plan.taken
        self.customers = list(tokens)
        self.auth = {pk: (("Authorization", f"Bearer {token}"),) for pk, token in tokens.items()}
        self.held = defaultdict(list)  # customer -> [(start, end)] of the bookings made for them
        self.every = round(1 / collisions) if collisions > 0 else 0
        self.turn = 0
        self.collided = 0

    def _customer_free_at(self, slot: data.Slot) -> int | None:
        for _ in range(len(self.customers)):
            customer = self.customers[self.turn % len(self.customers)]
            self.turn += 1
            if not any(s < slot.end and slot.start < e for s, e in self.held[customer]):
                self.held[customer].append((slot.start, slot.end))
                return customer
        return None  # every bench customer has a booking then: the slot is skipped

    def requests(self, count: int) -> list[Request]:
        out = []
        for index in range(count):
            if self.every and index % self.every == self.every - 1:
                slot = self.taken[self.collided % len(self.taken)]
                self.collided += 1
                customer = self.customers[self.turn % len(self.customers)]
                self.turn += 1
                out.append(
                    Request("POST", "/api/v1/bookings/", slot.body(), self.auth[customer], kind="collide")
                )
                continue
            customer = None
            while customer is None:
                if not self.free:
                    raise RuntimeError(
                        "the plan ran out of free slots: fewer --rates or a shorter --duration"
                    )
                slot = self.free.pop()
                customer = self._customer_free_at(slot)
            out.append(Request("POST", "/api/v1/bookings/", slot.body(), self.auth[customer], kind="create"))
        return out


def expected(outcome: Outcome) -> Outcome:
    """A creation succeeds with a 201, a collision with a 409; anything else is an error, named."""
    want = "201" if outcome.kind == "create" else "409"
    if outcome.status == want:
        return dataclasses.replace(outcome, ok=True)
    return dataclasses.replace(outcome, ok=False, status=f"{outcome.status} to a {outcome.kind}")


def creation_summary(run: Run, duration: float) -> dict:
    outcomes = [expected(o) for o in run.outcomes]
    base = dataclasses.asdict(summarize(Run(run.t0, outcomes, run.client_cpu_s), duration))
    for kind, status in (("create", "201"), ("collide", "409")):
        mine = [o for o in outcomes if o.kind == kind]
        base[f"{status}s"] = sum(o.ok for o in mine)
        base[f"latency_{status}_ms"] = latency_ms(mine)
    base["outcomes"] = outcomes
    return base


# --- Measurement ------------------------------------------------------------------------------------------
class Runner:
    """One gunicorn, one load generator, the CPU meter; every run waits for quiet first and for the
    server to drain after, and is kept with its label."""

    def __init__(self, args: argparse.Namespace, server: Gunicorn, stack: Stack):
        self.args, self.server = args, server
        self.generator = LoadGenerator(server.port, args.timeout)
        self.meter = CpuMeter(server.pid, stack.prefix)
        self.runs: dict[str, list[dict]] = defaultdict(list)  # label -> one summary per round
        self.outcomes: dict[str, list[Outcome]] = defaultdict(list)

    def _measure(self, label: str, number: int, go) -> dict:
        log(f"round {number}/{self.args.rounds}: {label}")
        settle(self.args.wait_idle)
        self.meter.start()
        summary, outcomes = go()
        summary["cpu_percent"] = dataclasses.asdict(self.meter.stop())
        drained = self.server.wait_drained()
        if drained > 1:
            summary["backlog_drain_seconds"] = round(drained, 1)
            log(f"the server worked off an overload's backlog for {drained:.0f} s before the next run")
        self.runs[label].append(summary)
        self.outcomes[label] += outcomes
        return summary

    def open(self, label: str, number: int, requests: list[Request], rate: float, creation: bool = False):
        def go():
            is_success = (lambda status, body: status in (201, 409)) if creation else ok_200
            run = self.generator.open_loop(
                lambda i: requests[i % len(requests)], is_success, rate, self.args.duration
            )
            if creation:
                summary = creation_summary(run, self.args.duration)
                return summary, summary.pop("outcomes")
            return dataclasses.asdict(summarize(run, self.args.duration)), run.outcomes

        return self._measure(label, number, go)

    def closed(self, label: str, number: int, requests: list[Request]):
        def go():
            run = self.generator.closed_loop(
                lambda i: requests[i % len(requests)],
                ok_200,
                self.args.clients,
                duration=self.args.closed_duration,
            )
            return dataclasses.asdict(summarize_closed(run)), run.outcomes

        return self._measure(label, number, go)


def measure(args, stack: Stack, plan: data.Plan, bench: list[dict], password: str) -> dict:
    server = stack.start_server(workers=args.workers, settings_module=BENCH_SETTINGS)
    try:
        log(f"signing in {len(bench)} bench customers through POST /api/v1/auth/login/")
        tokens = sign_in(server, bench, password)
        checked = check_plan(server, plan, next(iter(tokens.values())))
        log(f"the API's availability agrees with the plan on {checked} busy days")
        auths = [(("Authorization", f"Bearer {t}"),) for t in tokens.values()]
        me = [Request("GET", ME, headers=auth, kind="me") for auth in auths]
        busy = [
            Request("GET", availability_path(p, d), headers=auths[n % len(auths)], kind="busy")
            for n, (p, d, _c) in enumerate(one_per_provider(plan.busy_days))
        ]
        empty = [
            Request("GET", availability_path(p, d), headers=auths[n % len(auths)], kind="empty")
            for n, (p, d) in enumerate(one_per_provider(plan.empty_days))
        ]
        searches = search.requests(plan, auths)
        bookers = Bookers(plan, tokens, args.collisions)
        runner = Runner(args, server, stack)

        log("warming up (untimed): users/me, availability, and a few bookings")
        for requests, count in (
            (me, 10 * args.clients),
            (busy, 10 * args.clients),
            (empty, 10 * args.clients),
            (searches, 10 * args.clients),
        ):
            warm = runner.generator.closed_loop(
                lambda i, r=requests: r[i % len(r)], ok_200, args.clients, total=count
            )
            failed = [o.status for o in warm.outcomes if not o.ok]
            if failed:
                raise RuntimeError(f"warm-up failed: {failed[:10]}\n{server.log_tail()}")
        warm = bookers.requests(4 * args.workers)
        warm = [r for r in warm if r.kind == "create"]
        done = runner.generator.closed_loop(
            lambda i: warm[i], lambda s, b: s == 201, len(warm), total=len(warm)
        )
        if not all(o.ok for o in done.outcomes):
            raise RuntimeError(
                f"warm-up bookings failed: {[o.status for o in done.outcomes]}\n{server.log_tail()}"
            )

        for number in range(1, args.rounds + 1):
            rounds(args, runner, bookers, number, me=me, busy=busy, empty=empty, searches=searches)
    finally:
        server.stop()
    return pool(runner, checked, len(busy), len(empty)) | {
        "providers_per_service": dict(search.providers_per_service(plan))
    }


def rounds(args, runner: Runner, bookers: Bookers, number: int, *, me, busy, empty, searches) -> None:
    """One round: creations beside users/me/ at each rate, then availability in closed and open
    loop. The subject goes first in odd rounds, the reference in even ones, so drift hits both."""

    def in_order(steps: list) -> None:
        for step in steps if number % 2 else reversed(steps):
            step()

    for rate in args.rates:
        creations = bookers.requests(round(rate * args.duration))
        in_order(
            [
                partial(runner.open, f"create @{rate:g}/s", number, creations, rate, creation=True),
                partial(runner.open, f"users/me @{rate:g}/s", number, me, rate),
            ]
        )
    in_order(
        [
            partial(runner.closed, "availability busy, closed", number, busy),
            partial(runner.closed, "availability empty, closed", number, empty),
            partial(runner.closed, "users/me, closed", number, me),
        ]
    )
    rate = args.availability_rate
    steps = [
        partial(runner.open, f"availability busy @{rate:g}/s", number, busy, rate),
        partial(runner.open, f"availability empty @{rate:g}/s", number, empty, rate),
    ]
    if rate not in args.rates:
        steps.append(partial(runner.open, f"users/me @{rate:g}/s", number, me, rate))
    in_order(steps)
    in_order(search.round_steps(args, runner, number, searches))


def one_per_provider(days: list) -> list:
    """The first (busiest) day of each provider, so the requests rotate over providers."""
    seen, out = set(), []
    for item in days:
        if item[0] not in seen:
            seen.add(item[0])
            out.append(item)
    return out


def pool(runner: Runner, checked: int, busy: int, empty: int) -> dict:
    """Each label's rounds pooled: mean throughput, percentiles over every round's requests."""
    figures = {}
    for label, runs in runner.runs.items():
        outcomes = runner.outcomes[label]
        entry = {
            "throughput_rps": round(statistics.fmean(r["throughput_rps"] for r in runs), 2),
            "throughput_rps_rounds": [r["throughput_rps"] for r in runs],
            "requests": len(outcomes),
            "errors": error_counts(outcomes),
            "latency_ms": latency_ms(outcomes),
            "cpu_percent": {
                group: round(statistics.fmean(r["cpu_percent"][group] for r in runs), 1)
                for group in runs[0]["cpu_percent"]
            },
        }
        if "max_start_lag_ms" in runs[0]:
            entry["max_start_lag_ms"] = max(r["max_start_lag_ms"] for r in runs)
        if label.startswith("create"):
            for kind, status in (("create", "201"), ("collide", "409")):
                mine = [o for o in outcomes if o.kind == kind]
                entry[f"{status}s"] = sum(o.ok for o in mine)
                entry[f"latency_{status}_ms"] = latency_ms(mine)
            del entry["latency_ms"]
        figures[label] = entry
    labelled = [
        (f"{label} round {n}", r) for label, runs in runner.runs.items() for n, r in enumerate(runs, 1)
    ]
    return {
        "figures": figures,
        "rounds": dict(runner.runs),
        "noisy_runs": busy_runs(labelled),
        "plan_checked_days": checked,
        "busy_days_requested": busy,
        "empty_days_requested": empty,
    }


# --- Goals ------------------------------------------------------------------------------------------------
def evaluate_goals(args: argparse.Namespace, queries: dict, measured: dict | None) -> list[dict]:
    goals = []
    create_sql = queries["create"]["default_sql"]
    checks = overlap_checks(create_sql)
    goals.append(
        {
            "goal": "the exclusion constraint decides the conflict in the INSERT (no overlap query first)",
            "figure": checks,
            "met": checks == 0,
            "note": f"{checks} overlap pre-check queries before the INSERT; "
            f"{queries['create']['total']} queries per booking in all, "
            f"{queries['conflict']['total']} per 409",
        }
    )
    busy, empty = queries["availability busy day"]["total"], queries["availability empty day"]["total"]
    goals.append(
        {
            "goal": "availability: the same number of queries for a busy and an empty day",
            "figure": busy,
            "met": busy == empty,
            "note": f"busy {busy}, empty {empty}",
        }
    )
    goals += search.goals(args, queries, measured)
    if measured is None:
        return goals
    figures = measured["figures"]
    for rate in args.rates:
        p95 = figures[f"create @{rate:g}/s"]["latency_201_ms"].get("p95")
        goals.append(
            {
                "goal": f"create @{rate:g}/s: p95 of the 201s < {CREATE_P95_GOAL_MS:g} ms",
                "figure": p95,
                "met": p95 is not None and p95 < CREATE_P95_GOAL_MS,
            }
        )
    for label in ("availability busy, closed", f"availability busy @{args.availability_rate:g}/s"):
        p95 = figures[label]["latency_ms"].get("p95")
        goals.append(
            {
                "goal": f"{label}: p95 < {AVAILABILITY_P95_GOAL_MS:g} ms",
                "figure": p95,
                "met": p95 is not None and p95 < AVAILABILITY_P95_GOAL_MS,
            }
        )
    return goals


# --- The run ----------------------------------------------------------------------------------------------
def run(args: argparse.Namespace) -> int:
    if not 0 <= args.collisions < 1:
        raise SystemExit("--collisions is a share: 0 to below 1")
    target = Target(args.repo.resolve())
    target.check()
    revision, started = target.revision(), now_utc()
    password = secrets.token_urlsafe(16)
    measured = None
    with Stack(target, args.postgres_url, args.redis_url, extra_env=BENCH_ENV) as stack:
        stack.create_databases()
        people, timing = seed(stack, args, password)
        with psycopg.connect(stack.databases.url("default")) as conn:
            plan = data.make_plan(conn, datetime.now(UTC))
        log(
            f"plan: {len(plan.free):,} free slots, {len(plan.taken):,} booked times, "
            f"{len(plan.busy_days):,} busy days, {len(plan.empty_days):,} empty days"
        )
        log("counting queries through the test client (manage.py shell)")
        queries = count_queries(stack, plan, people["bench"][-1]["id"])
        if not args.seed_only:
            measured = measure(args, stack, plan, people["bench"][:-1] or people["bench"], password)
        log("cleaning up")

    report = {
        "config": describe(args, target, revision, started),
        "seed": timing.as_dict(),
        "plan": {
            "free_slots": len(plan.free),
            "booked_times": len(plan.taken),
            "busy_days": len(plan.busy_days),
            "busy_day_mean_active": round(statistics.fmean(c for _p, _d, c in plan.busy_days), 1)
            if plan.busy_days
            else None,
            "empty_days": len(plan.empty_days),
        },
        "queries": queries,
    }
    if measured is not None:
        report["measured"] = measured
    report["goals"] = evaluate_goals(args, queries, measured)
    print_report(args, report)
    if args.json:
        write_json(args.json, report)
    errors = sum(sum(f["errors"].values()) for f in measured["figures"].values()) if measured else 0
    return 0 if errors == 0 else 1


# --- Report -----------------------------------------------------------------------------------------------
def describe(args: argparse.Namespace, target: Target, revision: str, started: str) -> dict:
    return {
        "git": revision,
        "repo": str(target.root),
        "started_at": started,
        "scenario": NAME,
        "providers": args.providers,
        "time_zones": ", ".join(data.TIME_ZONES),
        "seeded_customers": data.SEED_CUSTOMERS,
        "bench_customers": f"{args.customers} (one signs in through the shell for the query counts)",
        "bookings_span": f"{data.PAST_DAYS // 7} weeks back to {data.FUTURE_DAYS // 7} weeks ahead, weekdays",
        "settings": f"{BENCH_SETTINGS} (config.settings.prod; Celery's broker keys under the run's prefix)",
        "gunicorn_workers": f"{args.workers} sync",
        "creation_rates": ", ".join(f"{r:g}" for r in args.rates) + f" req/s, {args.duration:g} s per run",
        "collisions": f"{args.collisions:.0%} of creations, for a time already booked (must be 409)",
        "availability": f"closed loop {args.clients} clients x {args.closed_duration:g} s; "
        f"open loop {args.availability_rate:g} req/s x {args.duration:g} s; duration={data.MINUTES}",
        "rounds": f"{args.rounds} (order flips each round)",
        "throttles": " ".join(f"{k}={v}" for k, v in BENCH_ENV.items() if k.startswith("THROTTLE"))
        + f" (raised for the benchmark; production {PRODUCTION_THROTTLES}; they still run)",
        "request_timeout_s": args.timeout,
        **machine(),
    }


def shorten(sql: str, width: int = 150) -> str:
    sql = " ".join(sql.split())
    return sql if len(sql) <= width else sql[: width - 3] + "..."


def print_report(args: argparse.Namespace, report: dict) -> None:
    print_rows([("Configuration", None), *report["config"].items()])
    seed, plan = report["seed"], report["plan"]
    print(
        f"\nSeed: {seed['bookings']:,} bookings in {seed['total_s']:.1f} s: people {seed['people_s']:.1f} "
        f"(roles, users, profiles, hours, services), insert {seed['insert_s']:.1f}, "
        f"indexes {seed['index_s']:.1f}, exclusion constraints re-added and validated "
        f"{seed['constraints_s']:.1f}, "
        f"VACUUM (ANALYZE) {seed['vacuum_s']:.1f}"
    )
    print(f"  by status: {', '.join(f'{k} {v:,}' for k, v in seed['by_status'].items())}")
    print(f"  exclusion constraints: {', '.join(seed['exclusion_constraints'])}")
    print(f"  an overlapping INSERT is refused by: {seed['overlap_refused_by'] or 'NOTHING (it went in)'}")
    print(
        f"  plan: {plan['free_slots']:,} free slots, {plan['booked_times']:,} booked times ahead, "
        f"{plan['busy_days']:,} busy days (mean {plan['busy_day_mean_active']} active bookings), "
        f"{plan['empty_days']:,} empty days"
    )

    queries = report["queries"]
    print("\nQueries per request (Django's test client, second of two identical requests), by database")
    rows = []
    labels = ("create", "conflict", "availability busy day", "availability empty day", "users/me")
    for label in (*labels, "availability search"):
        item = queries[label]
        rows.append([label, item["status"], *(item["counts"][a] for a in ALIASES), item["total"]])
    print(table(["request", "status", *ALIASES, "total"], rows))
    print(f"  busy day: {queries['busy_day']}; empty day: {queries['empty_day']}")
    for label in ("create", "conflict", "availability busy day"):
        print(f"\n  {label}, default database:")
        for n, sql in enumerate(queries[label]["default_sql"], 1):
            print(f"    {n:>2}. {shorten(sql)}")
        for alias, sqls in queries[label]["other_sql"].items():
            print(f"      {alias}: {len(sqls)} ({'; '.join(shorten(s, 60) for s in sqls)})")

    if "measured" in report:
        print_measured(args, report["measured"])
    print("\nGoals (reported, never failing the run)")
    for goal in report["goals"]:
        verdict = {True: "met", False: "NOT MET", None: "-"}[goal["met"]]
        figure = "-" if goal["figure"] is None else f"{goal['figure']:g}"
        note = f" ({goal['note']})" if goal.get("note") else ""
        print(f"  {verdict:<8} {goal['goal']}: {figure}{note}")


def print_measured(args: argparse.Namespace, measured: dict) -> None:
    figures = measured["figures"]
    print("\nBooking creation, open loop (each beside users/me/ at the same rate)")
    headers = [
        "run",
        "req/s",
        "per round",
        "201s",
        "409s",
        "201 p50 / p95 / p99 ms",
        "409 p50 / p95 / p99 ms",
    ]
    headers += ["max lag ms", "errors"]
    rows = []
    for rate in args.rates:
        create, me = figures[f"create @{rate:g}/s"], figures[f"users/me @{rate:g}/s"]
        rows.append(
            [
                f"create @{rate:g}/s",
                create["throughput_rps"],
                " ".join(f"{r:g}" for r in create["throughput_rps_rounds"]),
                create["201s"],
                create["409s"],
                ms(create["latency_201_ms"], "p50", "p95", "p99"),
                ms(create["latency_409_ms"], "p50", "p95", "p99"),
                create["max_start_lag_ms"],
                errors_text(create["errors"]),
            ]
        )
        rows.append(
            [
                f"users/me @{rate:g}/s",
                me["throughput_rps"],
                " ".join(f"{r:g}" for r in me["throughput_rps_rounds"]),
                None,
                None,
                ms(me["latency_ms"], "p50", "p95", "p99"),
                None,
                me["max_start_lag_ms"],
                errors_text(me["errors"]),
            ]
        )
    print(table(headers, rows))

    print(f"\nAvailability (duration={data.MINUTES}), beside users/me/")
    rate = f"@{args.availability_rate:g}/s"
    headers = ["request", "closed req/s", "per round", "closed p50 / p95 / p99 ms", f"{rate} req/s"]
    headers += [f"{rate} p50 / p95 / p99 ms", "errors"]
    rows = []
    for name in ("availability busy", "availability empty", "users/me"):
        closed, opened = figures[f"{name}, closed"], figures[f"{name} {rate}"]
        errors = Counter(closed["errors"]) + Counter(opened["errors"])
        rows.append(
            [
                name,
                closed["throughput_rps"],
                " ".join(f"{r:g}" for r in closed["throughput_rps_rounds"]),
                ms(closed["latency_ms"], "p50", "p95", "p99"),
                opened["throughput_rps"],
                ms(opened["latency_ms"], "p50", "p95", "p99"),
                errors_text(dict(errors)),
            ]
        )
    print(table(headers, rows))
    print(
        f"  busy days requested: {measured['busy_days_requested']} (one per provider), "
        f"empty days: {measured['empty_days_requested']}; the plan was checked against the API on "
        f"{measured['plan_checked_days']} busy days"
    )

    search.print_figures(args, figures, Counter(measured["providers_per_service"]))

    print_cpu_table(
        list(figures.items()),
        ("gunicorn", "postgres", "redis"),
        machine()["cpu_count"],
        during="each run (mean over the rounds)",
    )
    total = sum(len(runs) for runs in measured["rounds"].values())
    if measured["noisy_runs"]:
        print(
            f"\nWARNING: other processes used {BUSY_THRESHOLD:g}% of a core or more during "
            f"{len(measured['noisy_runs'])} of {total} runs; their figures are low:"
        )
        for line in measured["noisy_runs"]:
            print(f"  {line}")
    else:
        print(f"\nOther processes used under {BUSY_THRESHOLD:g}% of a core during all {total} runs.")


def errors_text(errors: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in errors.items()) if errors else "0"
