"""The printed report and the --json configuration."""

import argparse

from benchmarks.measure import BUSY_THRESHOLD
from benchmarks.report import machine, ms, print_cpu_table, print_rows, table
from benchmarks.scenarios.catalog import data as catalog_data
from benchmarks.scenarios.catalog.common import (
    BENCH_THROTTLES,
    BUSTER,
    HOSTILE_REQUESTS,
    MODES,
    NAME,
    PRODUCTION_THROTTLES,
    TYPES,
)
from benchmarks.stack import BENCH_SETTINGS, Target


def describe(
    args: argparse.Namespace, target: Target, revision: str, started: str, django_settings: dict
) -> dict:
    workers = f"{args.workers} {args.worker_class}"
    if args.worker_class == "gthread":
        workers += f" x {args.threads} threads"
    return {
        "git": revision,
        "repo": str(target.root),
        "started_at": started,
        "scenario": NAME,
        "products": args.products,
        "categories": len(catalog_data.CATEGORIES),
        "seed_only": args.seed_only,
        "settings": f"{BENCH_SETTINGS} (config.settings.prod + the floor's URLs)",
        "gunicorn_workers": workers,
        "types": args.types,
        "modes": args.modes,
        "closed_loop": f"{args.clients} clients, {args.duration:g} s per run",
        "open_loop_rates": args.rates,
        "open_loop": f"{', '.join(f'{r:g}' for r in args.rates)} req/s, {args.open_duration:g} s per run",
        "rounds": f"{args.rounds} (ours and floor alternate, order flipped each round)",
        "cold": f"every request a new URL (a unique `{BUSTER}=`): each one misses, then stores its answer",
        "warm": f"the same URLs, stored just before each run: {warm_sets(args)}",
        "throttles": " ".join(f"{k}={v}" for k, v in BENCH_THROTTLES.items())
        + f" (raised for the benchmark; production {PRODUCTION_THROTTLES}; they still run)",
        **{f"django {name}": value for name, value in django_settings.items()},
        "request_timeout_s": args.timeout,
        **machine(),
    }


def warm_sets(args: argparse.Namespace) -> str:
    counts = {
        "list1": 1,
        "filtered": len(catalog_data.CATEGORIES) * len(catalog_data.PRICE_BANDS),
        "search": len(catalog_data.SEARCH_TERMS),
        "detail": args.warm_ids,
    }
    return ", ".join(f"{name} {counts[name]:,} URL{'' if counts[name] == 1 else 's'}" for name in args.types)


def _open_cells(entry: dict, rates: list[float]) -> list:
    cells = []
    for rate in rates:
        opened = entry["open"].get(f"{rate:g}")
        cells += (
            [opened["throughput_rps"], ms(opened["latency_ms"], "p50", "p95", "p99")]
            if opened
            else [None, None]
        )
    return cells


def print_size(args: argparse.Namespace, size: str, data: dict) -> None:
    seed = data["seed"]
    print(
        f"\n=== {int(size):,} products ({data['active_products']:,} active) "
        f"seeded in {seed['total_s']:.1f} s: insert {seed['insert_s']:.1f}, indexes {seed['index_s']:.1f}, "
        f"VACUUM (ANALYZE) {seed['vacuum_s']:.1f} ({seed['added']:,} rows added)"
    )
    print(
        "\nQuery plans (EXPLAIN (ANALYZE, BUFFERS), second execution): execution ms, trigram index, indexes"
    )
    width = max(len(f"{plan['label']} {plan['query']}") for plan in data["plans"])
    for plan in data["plans"]:
        print(
            f"  {plan['label'] + ' ' + plan['query']:<{width}}  {plan['execution_ms'] or 0:>9.3f} ms  "
            f"{'trigram' if plan['trigram_index_used'] else 'no trigram':<10}  "
            f"{', '.join(plan['indexes']) or '(no index: sequential scan)'}"
        )
    for plan in data["plans"]:
        print(f"\n  {plan['label']} {plan['query']}: GET {plan['url']}")
        print("\n".join(f"    {line}" for line in plan["plan"].splitlines()))
    if "types" not in data:
        return
    if data.get("hostile_search"):
        print(
            f"\nHostile search terms ({HOSTILE_REQUESTS} requests each, one at a time, cache cold): "
            "the API refuses them; the floor runs the unguarded query"
        )
        rows = [
            [row["term"], row["side"], ",".join(map(str, row["statuses"])), row["p50_ms"], row["max_ms"]]
            for row in data["hostile_search"]
        ]
        print(table(["term", "side", "status", "p50 ms", "max ms"], rows))
    headers = ["", "closed req/s", "per round", "closed p50 / p95 / p99 ms"]
    for rate in args.rates:
        headers += [f"@{rate:g}/s req/s", f"@{rate:g}/s p50 / p95 / p99 ms"]
    headers += ["cache misses", "errors"]
    for name, modes in data["types"].items():
        print(f"\n{name}: {TYPES[name]}")
        rows = []
        for mode, entry in modes.items():
            for side in ("ours", "floor"):
                if side not in entry:
                    continue
                closed = entry[side]["closed"]
                misses = entry[side].get("cache_misses")
                rows.append(
                    [
                        f"{side} {mode}",
                        closed["throughput_rps"],
                        " ".join(f"{r:g}" for r in closed["throughput_rps_rounds"]),
                        ms(closed["latency_ms"], "p50", "p95", "p99"),
                        *_open_cells(entry[side], args.rates),
                        f"{misses['entries_written']:,}/{misses['requests']:,}" if misses else None,
                        closed["errors"] + sum(o["errors"] for o in entry[side]["open"].values()),
                    ]
                )
            if "ours_over_floor" in entry:
                rows.append([f"ours/floor {mode}", entry["ours_over_floor"], *[None] * (len(headers) - 2)])
        print(table(headers, rows))

    runs = [
        (f"{name} {mode} {side}", entry[side]["closed"])
        for name, modes in data["types"].items()
        for mode, entry in modes.items()
        for side in ("ours", "floor")
        if side in entry
    ]
    print_cpu_table(runs, ("gunicorn", "postgres", "redis"), machine()["cpu_count"])
    total = sum(
        len(loops["closed"]) + sum(len(s) for s in loops["open"].values())
        for modes in data["rounds"].values()
        for sides in modes.values()
        for loops in sides.values()
    )
    if data["noisy_runs"]:
        print(
            f"\nWARNING: other processes used {BUSY_THRESHOLD:g}% of a core or more during "
            f"{len(data['noisy_runs'])} of {total} runs; their figures are low:"
        )
        for line in data["noisy_runs"]:
            print(f"  {line}")
    else:
        print(f"\nOther processes used under {BUSY_THRESHOLD:g}% of a core during all {total} runs.")


def print_report(args: argparse.Namespace, report: dict) -> None:
    print_rows([("Configuration", None), *report["config"].items()])
    for size, data in report["sizes"].items():
        print_size(args, size, data)
    if len(report["sizes"]) > 1 or "goals" in report:
        print("\nSummary: closed-loop req/s, ours beside the floor")
        rows = []
        for size, data in report["sizes"].items():
            for name, modes in data.get("types", {}).items():
                row = [f"{int(size):,}", name]
                for mode in MODES:
                    entry = modes.get(mode, {})
                    row += [
                        entry.get("ours", {}).get("closed", {}).get("throughput_rps"),
                        entry.get("floor", {}).get("closed", {}).get("throughput_rps"),
                        entry.get("ours_over_floor"),
                    ]
                rows.append(row)
        headers = ["products", "request"]
        headers += [f"{mode} {column}" for mode in MODES for column in ("ours", "floor", "ours/floor")]
        print(table(headers, rows))
    if "goals" in report:
        print("\nGoals (reported, never failing the run)")
        for goal in report["goals"]:
            verdict = {True: "met", False: "NOT MET", None: "-"}[goal["met"]]
            figure = "-" if goal["figure"] is None else f"{goal['figure']:g}"
            note = f" ({goal['note']})" if goal.get("note") else ""
            print(f"  {verdict:<8} {goal['goal']}: {figure}{note}")
