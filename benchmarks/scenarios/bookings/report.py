"""The printed report and the --json configuration."""

import argparse
from collections import Counter

from benchmarks.measure import BUSY_THRESHOLD
from benchmarks.report import machine, ms, print_cpu_table, print_rows, table
from benchmarks.scenarios.bookings import data, search
from benchmarks.scenarios.bookings.common import ALIASES, BENCH_ENV, NAME, PRODUCTION_THROTTLES
from benchmarks.stack import BENCH_SETTINGS, Target


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
