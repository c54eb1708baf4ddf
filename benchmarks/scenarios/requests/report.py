"""The report: built from the runs, printed, and the --json configuration."""

import argparse

from benchmarks.measure import BUSY_THRESHOLD, busy_runs, pooled_closed, pooled_open
from benchmarks.report import machine, ms, print_cpu_table, print_rows, table
from benchmarks.scenarios.requests.common import (
    BENCH_THROTTLES,
    BENCH_TOKEN_MINUTES,
    NAME,
    PRODUCTION_THROTTLES,
    SIDES,
    TEMPLATE_TYPES,
    TYPES,
)
from benchmarks.scenarios.requests.measurement import MemoryLog
from benchmarks.scenarios.requests.setup import RequestType, Seed
from benchmarks.stack import BENCH_SETTINGS, Target


def describe(args: argparse.Namespace, target: Target, revision: str, started: str, data: Seed) -> dict:
    workers = f"{args.workers} {args.worker_class}"
    if args.worker_class == "gthread":
        workers += f" x {args.threads} threads"
    return {
        "git": revision,
        "repo": str(target.root),
        "started_at": started,
        "scenario": NAME,
        "settings": f"{BENCH_SETTINGS} (config.settings.prod + the floor's URLs)",
        "gunicorn_workers": workers,
        "users": len(data.ids) + 1,
        "closed_loop": f"{args.clients} clients, {args.duration:g} s per run",
        "open_loop": f"{args.rate:g} req/s, {args.open_duration:g} s per run",
        "rounds": f"{args.rounds} (ours, floor and template in turn, order flipped each round)"
        if args.template
        else f"{args.rounds} (ours and floor alternate, order flipped each round)",
        "throttles": " ".join(f"{k}={v}" for k, v in BENCH_THROTTLES.items())
        + f" (raised for the benchmark; production {PRODUCTION_THROTTLES}; they still run)",
        "access_token_minutes": f"{BENCH_TOKEN_MINUTES} (production 15; one staff token for the whole run)",
        "request_timeout_s": args.timeout,
        **machine(),
    }


def build_report(types: list[RequestType], results: dict, memory: MemoryLog, mixed_phase) -> dict:
    summary = {}
    for kind in types:
        entry = {
            side: {"closed": pooled_closed(m.closed), "open": pooled_open(m.open)}
            for side, m in results[kind.name].items()
        }
        for other in ("floor", "template"):
            if other in entry:
                theirs = entry[other]["closed"]["throughput_rps"]
                entry[f"ours_over_{other}"] = (
                    round(entry["ours"]["closed"]["throughput_rps"] / theirs, 3) if theirs else None
                )
        summary[kind.name] = entry
    rounds = {
        kind.name: {
            side: {"closed": m.closed.runs, "open": m.open.runs} for side, m in results[kind.name].items()
        }
        for kind in types
    }
    noisy = busy_runs(
        (f"{name} {side} {loop} round {number}", run)
        for name, sides in rounds.items()
        for side, loops in sides.items()
        for loop, runs in loops.items()
        for number, run in enumerate(runs, 1)
    )
    return {
        "types": summary,
        "rounds": rounds,
        "memory": memory.readings,
        "mixed_phase": mixed_phase,
        "noisy_runs": noisy,
    }


def count_errors(report: dict) -> int:
    errors = sum(
        entry[side][loop]["errors"]
        for entry in report["types"].values()
        for side in SIDES
        if side in entry
        for loop in ("closed", "open")
    )
    return errors + (report["mixed_phase"] or {}).get("errors", 0)


def _rss_table(readings: list[dict]) -> str:
    pids = sorted({pid for r in readings for pid in r["rss_kib"]})
    rows = []
    for reading in readings:
        values = [reading["rss_kib"].get(pid) for pid in pids]
        rows.append(
            [reading["label"], f"{reading['requests']:,}"]
            + [f"{v / 1024:.1f}" if v else None for v in values]
            + [f"{sum(v or 0 for v in values) / 1024:.1f}"]
        )
    first, last = readings[0]["rss_kib"], readings[-1]["rss_kib"]
    growth = [
        f"{((last.get(pid) or 0) - (first.get(pid) or 0)) / 1024:+.1f}"
        if pid in first and pid in last
        else None
        for pid in pids
    ]
    total = (sum(v or 0 for v in last.values()) - sum(v or 0 for v in first.values())) / 1024
    rows.append(["growth since warm-up", "", *growth, f"{total:+.1f}"])
    headers = ["moment", "requests"] + [f"worker {pid}" for pid in pids] + ["total"]
    return table(headers, rows)


def print_report(args: argparse.Namespace, config: dict, report: dict) -> None:
    print_rows([("Configuration", None), *config.items()])
    has_template = any("template" in entry for entry in report["types"].values())
    for name, entry in report["types"].items():
        print(f"\n{name}: {TYPES[name]}")
        if "template" in entry:
            print(f"  template: {TEMPLATE_TYPES[name]}")
        rows = []
        for side in SIDES:
            if side not in entry:
                continue
            closed, opened = entry[side]["closed"], entry[side]["open"]
            rows.append(
                [
                    side,
                    closed["throughput_rps"],
                    " ".join(f"{r:g}" for r in closed["throughput_rps_rounds"]),
                    ms(closed["latency_ms"], "p50", "p99"),
                    opened["throughput_rps"],
                    ms(opened["latency_ms"], "p50", "p95", "p99"),
                    closed["errors"] + opened["errors"],
                ]
            )
        for other in ("floor", "template"):
            if f"ours_over_{other}" in entry:
                rows.append([f"ours/{other}", entry[f"ours_over_{other}"], None, None, None, None, None])
        headers = [
            "",
            "closed req/s",
            "per round",
            "closed p50 / p99 ms",
            f"open req/s (offered {args.rate:g})",
            "open p50 / p95 / p99 ms",
            "errors",
        ]
        print(table(headers, rows))

    others = ("floor", "template") if has_template else ("floor",)
    print(
        f"\nSummary: closed loop ({args.clients} clients) throughput, ours beside the "
        + " and the ".join(others)
    )
    rows = []
    for name, entry in report["types"].items():
        ours = entry["ours"]
        theirs = [entry.get(other) for other in others]
        rows.append(
            [
                name,
                ours["closed"]["throughput_rps"],
                *(side["closed"]["throughput_rps"] if side else None for side in theirs),
                *(entry.get(f"ours_over_{other}") for other in others),
                ms(ours["closed"]["latency_ms"], "p50", "p99"),
                *(ms(side["closed"]["latency_ms"], "p50", "p99") if side else None for side in theirs),
                ms(ours["open"]["latency_ms"], "p50", "p95", "p99"),
                *(ms(side["open"]["latency_ms"], "p50", "p95", "p99") if side else None for side in theirs),
            ]
        )
    headers = [
        "request",
        "ours req/s",
        *(f"{other} req/s" for other in others),
        *(f"ours/{other}" for other in others),
        "ours p50/p99",
        *(f"{other} p50/p99" for other in others),
        f"ours @{args.rate:g}/s p50/p95/p99",
        *(f"{other} @{args.rate:g}/s p50/p95/p99" for other in others),
    ]
    print(table(headers, rows))
    if has_template:
        ours_connections = (
            "kept alive (gthread)" if args.worker_class == "gthread" else "closed after every response (sync)"
        )
        print(f"  template list order: {config['template_list_order']}")
        print(f"  connections: template {config['template_connections']}; ours {ours_connections}")

    runs = [
        (f"{name} {side}", entry[side]["closed"])
        for name, entry in report["types"].items()
        for side in SIDES
        if side in entry
    ]
    print_cpu_table(runs, ("gunicorn", "postgres", "load_generator"), config["cpu_count"])
    if has_template:
        print("  template rows: the gunicorn columns are the template's uvicorn (master and workers);")
        print("  its pool's overflow connections exit before the meter reads them, their PostgreSQL as other")

    total_runs = sum(
        len(r) for sides in report["rounds"].values() for loops in sides.values() for r in loops.values()
    )
    if report["noisy_runs"]:
        print(
            f"\nWARNING: other processes used {BUSY_THRESHOLD:g}% of a core or more during "
            f"{len(report['noisy_runs'])} of {total_runs} runs; their figures are low:"
        )
        for line in report["noisy_runs"]:
            print(f"  {line}")
    else:
        print(f"\nOther processes used under {BUSY_THRESHOLD:g}% of a core during all {total_runs} runs.")

    if report["memory"]:
        print("\nGunicorn worker memory (VmRSS, MiB)")
        print(_rss_table(report["memory"]))
    if report["mixed_phase"]:
        mixed = report["mixed_phase"]
        print(
            f"  mixed requests between the readings: {mixed['requests']:,}, {mixed['errors']} errors, "
            f"p50 / p99 {ms(mixed['latency_ms'], 'p50', 'p99')} ms"
        )
