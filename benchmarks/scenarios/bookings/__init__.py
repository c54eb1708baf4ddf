"""bookings: making bookings at a fixed rate, and a provider's availability on a busy day.

Seeds 500 providers (six time zones, Mon-Fri hours, some with a lunch gap) and about 200,000
bookings over 35 weeks with PostgreSQL's generate_series (see data.py), counts the
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
import secrets
import statistics
from datetime import UTC, datetime

import psycopg

from benchmarks.options import add_stack_options, log, positive_float, positive_int, rate_list
from benchmarks.report import now_utc, write_json
from benchmarks.scenarios.bookings import search
from benchmarks.scenarios.bookings.common import BENCH_ENV, NAME, SMOKE, SUMMARY
from benchmarks.scenarios.bookings.goals import evaluate_goals
from benchmarks.scenarios.bookings.measurement import measure
from benchmarks.scenarios.bookings.plan import make_plan
from benchmarks.scenarios.bookings.report import describe, print_report
from benchmarks.scenarios.bookings.setup import count_queries, seed
from benchmarks.stack import Stack, Target

__all__ = ["NAME", "SMOKE", "SUMMARY", "add_arguments", "run"]


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
            plan = make_plan(conn, datetime.now(UTC))
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
