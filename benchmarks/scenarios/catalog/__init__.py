"""catalog: the public product list and detail, cache cold and warm, beside the plain-Django floor.

Seeds N products in 50 categories with PostgreSQL's own generate_series (see data.py),
prints the EXPLAIN (ANALYZE, BUFFERS) plans of the list, filtered-list and search queries and
their capped counts, then measures anonymous GET /api/v1/products/ (page 1; filtered by category
and price; a search) and GET /api/v1/products/{id}/ against gunicorn with the production
settings, in closed loop (capacity) and open loop at fixed rates (latency), each with the
catalog cache cold (every request a distinct URL, so every one misses and stores its answer,
as a real miss does) and warm (a fixed set of URLs, stored beforehand, repeated so every request
hits), next to the same rows served by a plain Django view in the same gunicorn. `--products`
takes several sizes: the catalog grows in place from one to the next, and the report compares
the list's latency between the smallest and the largest.

    .venv/bin/python -m benchmarks catalog
    .venv/bin/python -m benchmarks catalog --products 10000,1000000 --json var/bench-catalog.json
    .venv/bin/python -m benchmarks catalog --products 1000000 --seed-only
"""

import argparse
from contextlib import closing
from pathlib import Path

import psycopg
import redis

from benchmarks.options import add_stack_options, log, name_list, positive_float, positive_int, rate_list
from benchmarks.report import now_utc, write_json
from benchmarks.scenarios.catalog import data as catalog_data
from benchmarks.scenarios.catalog.common import BENCH_THROTTLES, MODES, NAME, SMOKE, SUMMARY, TYPES
from benchmarks.scenarios.catalog.goals import evaluate_goals, load_earlier
from benchmarks.scenarios.catalog.measurement import measure_size
from benchmarks.scenarios.catalog.report import describe, print_report
from benchmarks.scenarios.catalog.setup import CatalogCache, active_ids, build_streams, explain, seed
from benchmarks.stack import Stack, Target

__all__ = ["NAME", "SMOKE", "SUMMARY", "add_arguments", "run"]


def size_list(value: str) -> list[int]:
    try:
        sizes = sorted({int(part.replace("_", "")) for part in value.split(",") if part.strip()})
    except ValueError:
        sizes = []
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError(f"one or more positive numbers, comma-separated: {value}")
    return sizes


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add(
        "--products",
        type=size_list,
        default=[100_000],
        metavar="N[,N...]",
        help="products to seed; several sizes are measured in turn, the catalog grown in place (100000)",
    )
    add("--workers", type=positive_int, default=2, help="gunicorn workers (%(default)s)")
    add(
        "--worker-class",
        choices=["sync", "gthread"],
        default="sync",
        help="gunicorn worker class (%(default)s)",
    )
    add("--threads", type=positive_int, default=4, help="threads per gthread worker (%(default)s)")
    add("--clients", type=positive_int, default=16, help="closed-loop concurrent clients (%(default)s)")
    add("--duration", type=positive_float, default=5.0, help="seconds of each closed-loop run (%(default)s)")
    add("--rates", type=rate_list, default=[50.0, 150.0], help="open-loop requests per second (50,150)")
    add("--open-duration", type=positive_float, help="seconds of each open-loop run (--duration)")
    add("--rounds", type=positive_int, default=2, help="rounds, ours and floor alternating (%(default)s)")
    add("--types", type=name_list(TYPES), default=list(TYPES), help=f"request types ({','.join(TYPES)})")
    add("--modes", type=name_list(MODES), default=list(MODES), help="cache modes (cold,warm)")
    add(
        "--warm-ids",
        type=positive_int,
        default=1000,
        help="product ids the warm detail requests rotate over (%(default)s)",
    )
    add(
        "--wait-idle",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="before each run, wait up to this long for other processes to go quiet; 0: don't (%(default)s)",
    )
    add("--seed-only", action="store_true", help="seed, print the timings and query plans, and stop")
    add(
        "--compare-json",
        type=Path,
        metavar="PATH",
        help="an earlier catalog run's --json, whose sizes join this run's in the list-latency comparison",
    )
    add_stack_options(parser)


def run(args: argparse.Namespace) -> int:
    args.open_duration = args.open_duration or args.duration
    target = Target(args.repo.resolve())
    target.check()
    earlier = load_earlier(args.compare_json) if args.compare_json else None
    revision, started = target.revision(), now_utc()  # before the run: a working tree can change during it
    sizes: dict[str, dict] = {}
    django_settings: dict = {}

    with (
        Stack(target, args.postgres_url, args.redis_url, extra_env=BENCH_THROTTLES) as stack,
        closing(redis.Redis.from_url(args.redis_url)) as client,
    ):
        cache = CatalogCache(client, stack.prefix)
        stack.create_databases()
        with psycopg.connect(stack.databases.url("default"), autocommit=True) as conn:
            categories = catalog_data.seed_categories(conn)
        seeded = 0
        for size in args.products:
            category_ids = [pk for pk, _slug in categories]
            entry = sizes[str(size)] = {"seed": seed(stack, category_ids, seeded + 1, size)}
            seeded = size
            cache.clear(version_too=True)  # the seed wrote behind the API's back: nothing cached stands
            ids = active_ids(stack)
            streams = build_streams(args.types, categories, ids, args.warm_ids)
            entry["active_products"] = len(ids)
            log("EXPLAIN (ANALYZE, BUFFERS) of the list, filtered and search queries")
            explained = explain(stack, category_ids[0])
            entry["plans"] = explained["plans"]
            django_settings = explained["settings"]
            if not args.seed_only:
                entry.update(measure_size(args, stack, cache, streams))
        log("cleaning up")

    config = describe(args, target, revision, started, django_settings)
    report = {"config": config, "sizes": sizes}
    if not args.seed_only:
        report["goals"] = evaluate_goals(args, sizes, earlier)
    print_report(args, report)
    if args.json:
        write_json(args.json, report)
    return 0 if count_errors(report) == 0 else 1


def count_errors(report: dict) -> int:
    errors = 0
    for data in report["sizes"].values():
        for modes in data.get("types", {}).values():
            for entry in modes.values():
                for side in ("ours", "floor"):
                    if side in entry:
                        errors += entry[side]["closed"]["errors"]
                        errors += sum(o["errors"] for o in entry[side]["open"].values())
    return errors
