"""The bookings scenario's search across providers: `GET /api/v1/availability/?service=..&from=..&to=..`
for a week of every provider of a service (each of the 20 services is offered by 3/20 of the
providers: 75 with the default 500), in closed loop and open loop beside the one-provider
availability of the same run.

Requests rotate over the services and over start days (the first bookable day and the next six),
so each asks a different week; every week holds the seeded bookings of its days. The scenario
calls in at five places: its options, the query count, the warm-up, each round, and the report.
"""

import argparse
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from functools import partial

from benchmarks.loadgen import Request
from benchmarks.report import ms, table
from benchmarks.scenarios.bookings import data
from benchmarks.scenarios.bookings.plan import Plan

CLOSED = "availability search, closed"
P95_GOAL_MS = 50.0
WEEK = 7
START_DAYS = 7  # weeks starting on each of this many consecutive days


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--search-rate",
        type=float,
        default=20.0,
        help="availability searches per second, open loop; 0: closed loop only (%(default)s)",
    )


def open_label(args: argparse.Namespace) -> str:
    return f"availability search @{args.search_rate:g}/s"


def providers_per_service(plan: Plan) -> Counter:
    return Counter(service for provider in plan.providers.values() for service in provider.services)


def search_path(service: int, first: date) -> str:
    last = first + timedelta(days=WEEK - 1)
    return (
        f"/api/v1/availability/?service={service}&from={first.isoformat()}&to={last.isoformat()}"
        f"&duration={data.MINUTES}"
    )


def first_days(today: date) -> list[date]:
    return [today + timedelta(days=data.FIRST_BOOKABLE_DAY + n) for n in range(START_DAYS)]


def requests(plan: Plan, auths: list) -> list[Request]:
    """Every service once for each start day, the services in turn, each with the next customer's token."""
    today = datetime.now(UTC).date()
    services = sorted(providers_per_service(plan))
    pairs = [(service, day) for day in first_days(today) for service in services]
    return [
        Request("GET", search_path(service, day), headers=auths[n % len(auths)], kind="search")
        for n, (service, day) in enumerate(pairs)
    ]


def query_item(plan: Plan) -> dict:
    """The search's entry in the scenario's query count: the busiest service, a week ahead."""
    service, _count = providers_per_service(plan).most_common(1)[0]
    today = datetime.now(UTC).date()
    return {
        "label": "availability search",
        "method": "GET",
        "path": search_path(service, first_days(today)[0]),
        "expect": 200,
    }


def round_steps(args: argparse.Namespace, runner, number: int, searches: list[Request]) -> list:
    """This round's runs, for the scenario to order with its own."""
    steps = [partial(runner.closed, CLOSED, number, searches)]
    if args.search_rate > 0:
        steps.append(partial(runner.open, open_label(args), number, searches, args.search_rate))
    return steps


def print_figures(args: argparse.Namespace, figures: dict, plan_counts: Counter) -> None:
    counts = sorted(set(plan_counts.values()))
    print(
        f"\nAvailability search (a week of every provider of a service, duration={data.MINUTES}; "
        f"{len(plan_counts)} services, {'/'.join(map(str, counts))} providers each)"
    )
    rows = []
    for label in (CLOSED, open_label(args) if args.search_rate > 0 else None):
        if label is None or label not in figures:
            continue
        figure = figures[label]
        rows.append(
            [
                label,
                figure["throughput_rps"],
                ms(figure["latency_ms"], "p50", "p95", "p99"),
                ", ".join(f"{k}: {v}" for k, v in figure["errors"].items()) or "0",
            ]
        )
    print(table(["run", "req/s", "p50 / p95 / p99 ms", "errors"], rows))


def goals(args: argparse.Namespace, queries: dict, measured: dict | None) -> list[dict]:
    found = []
    if "availability search" in queries:
        total = queries["availability search"]["total"]
        found.append(
            {
                "goal": "availability search: fixed queries "
                "(service, providers, hours, exceptions, bookings)",
                "figure": total,
                "met": total <= 6,
                "note": f"{total} queries for every provider of a service over a week",
            }
        )
    if measured is None:
        return found
    labels = [CLOSED] + ([open_label(args)] if args.search_rate > 0 else [])
    for label in labels:
        p95 = measured["figures"][label]["latency_ms"].get("p95")
        found.append(
            {
                "goal": f"{label}: p95 < {P95_GOAL_MS:g} ms",
                "figure": p95,
                "met": p95 is not None and p95 < P95_GOAL_MS,
            }
        )
    return found
