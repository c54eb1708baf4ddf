"""catalog: the public product list and detail, cache cold and warm, beside the plain-Django floor.

Seeds N products in 50 categories with PostgreSQL's own generate_series (see catalog_data.py),
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
import json
import re
import secrets
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import redis

from benchmarks.loadgen import LoadGenerator, Request
from benchmarks.measure import (
    BUSY_THRESHOLD,
    Series,
    busy_runs,
    measure_closed,
    measure_open,
    ok_200,
    pooled_closed,
    pooled_open,
    settle,
)
from benchmarks.options import add_stack_options, log, positive_float, positive_int
from benchmarks.probes import CpuMeter
from benchmarks.report import machine, ms, now_utc, print_cpu_table, print_rows, table, write_json
from benchmarks.scenarios import catalog_data
from benchmarks.stack import BENCH_SETTINGS, Gunicorn, Stack, Target, http_call

NAME = "catalog"
SUMMARY = "public product list/search/detail, cache cold and warm, beside a plain-Django floor"

# Every request comes from one address, and an anonymous caller counts against both general limits
# per address (120/minute and 1200/minute), which would answer almost everything with 429. They are
# raised; both throttles still run on every request, against Redis.
BENCH_THROTTLES = {"THROTTLE_ANON_RATE": "1000000/second", "THROTTLE_USER_RATE": "1000000/second"}
PRODUCTION_THROTTLES = "anon 120/minute, user 1200/minute"

API, FLOOR = "/api/v1/products/", "/__floor__/products/"
# The parameter that makes a cold request's URL unique. The API keys its cache on the parameters
# that change an answer only, so production serves `?_=1` from the entry of the URL without it; the
# benchmark's server keys products/ on `_` too (benchmarks/server/urls.py), and no filter, ordering
# or pagination reads it, so the request does exactly what the same URL without it does, and misses.
BUSTER = "_"
HOSTILE_REQUESTS = 10  # requests per hostile term and side, one at a time
DETAIL_ID_STEP = 7919  # prime: the detail ids are visited in a scattered order

TYPES = {
    "list1": "GET /api/v1/products/ (page 1, unfiltered: 20 rows + capped count)",
    "filtered": (
        "GET /api/v1/products/?category=..&min_price=..&max_price=.. "
        f"({len(catalog_data.CATEGORIES)} categories x {len(catalog_data.PRICE_BANDS)} price bands)"
    ),
    "search": f"GET /api/v1/products/?search=.. ({len(catalog_data.SEARCH_TERMS)} terms, trigram indexes)",
    "detail": "GET /api/v1/products/{id}/ (ids rotate over the active products)",
}
LIST_TYPES = ("list1", "filtered", "search")
MODES = ("cold", "warm")
# The goals this work set itself; the report says whether each is met and never fails for them.
COLD_LIST_GOAL = 0.7  # cold lists: at least this share of the floor's closed-loop throughput
WARM_GOAL = 3.0  # warm lists and details: at least this many times the floor's
SCALING_GOAL = 1.5  # cold list1 p50 at the largest size: at most this many times that at the smallest


def size_list(value: str) -> list[int]:
    try:
        sizes = sorted({int(part.replace("_", "")) for part in value.split(",") if part.strip()})
    except ValueError:
        sizes = []
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError(f"one or more positive numbers, comma-separated: {value}")
    return sizes


def rate_list(value: str) -> list[float]:
    rates = sorted({positive_float(part) for part in value.split(",") if part.strip()})
    if not rates:
        raise argparse.ArgumentTypeError(f"one or more rates, comma-separated: {value}")
    return rates


def name_list(choices):
    def parse(value: str) -> list[str]:
        names = [name.strip() for name in value.split(",") if name.strip()]
        unknown = sorted(set(names) - set(choices))
        if unknown or not names:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(choices)}: {value}")
        return [name for name in choices if name in names]

    return parse


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


# --- Set-up -----------------------------------------------------------------------------------------------
def seed(stack: Stack, category_ids: list[int], start: int, stop: int) -> dict:
    """Grow the catalog to `stop` products, then VACUUM (ANALYZE), as autovacuum would have."""
    log(f"seeding products {start:,}..{stop:,} (INSERT ... SELECT FROM generate_series)")
    with psycopg.connect(stack.databases.url("default"), autocommit=True) as conn:
        timing = catalog_data.grow_products(conn, start=start, stop=stop, category_ids=category_ids)
    log(f"inserted in {timing.insert_s:.1f} s, indexes rebuilt in {timing.index_s:.1f} s; VACUUM (ANALYZE)")
    began = time.perf_counter()
    stack.databases.vacuum_analyze("default")
    timing.vacuum_s = round(time.perf_counter() - began, 1)
    return timing.as_dict()


def active_ids(stack: Stack) -> list[int]:
    with psycopg.connect(stack.databases.url("default")) as conn:
        return [row[0] for row in conn.execute("SELECT id FROM products_product WHERE is_active ORDER BY id")]


# Runs inside the measured checkout's `manage.py shell`: each URL through the API itself (Django's
# test client, the full middleware), capturing the SQL it runs, then EXPLAIN (ANALYZE, BUFFERS) of
# each product query; the URLs carry a unique `_` so that they miss the cache. The second execution
# of each query is the one explained, so its buffers are mostly hits, as in the steady state.
EXPLAIN = """
import json, os
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

client = Client(HTTP_HOST="localhost")
plans = []
for label, url in json.loads(os.environ["BENCH_EXPLAIN"]):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}: {response.content[:300]!r}")
    queries = [q["sql"] for q in captured.captured_queries if "products_product" in q["sql"]]
    if not queries:
        raise SystemExit(f"{url} ran no product query")
    for sql in queries:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = "\\n".join(row[0] for row in cursor.fetchall())
        query = "count" if sql.lstrip().upper().startswith("SELECT COUNT(") else "page"
        plans.append({"label": label, "query": query, "url": url, "sql": sql, "plan": plan})
cache = settings.CACHES["default"]
print(json.dumps({
    "plans": plans,
    "settings": {
        "CATALOG_COUNT_CAP": settings.CATALOG_COUNT_CAP,
        "CATALOG_CACHE_SECONDS": settings.CATALOG_CACHE_SECONDS,
        "cache": f"{cache['BACKEND']} prefix {cache.get('KEY_PREFIX', '')}",
    },
}))
"""
INDEX_USE = re.compile(r"(?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\w+)")
EXECUTION_TIME = re.compile(r"Execution Time: ([\d.]+) ms")


def explain(stack: Stack, category_id: int) -> dict:
    """The plans of the page and count queries of page 1, a filtered list, and a rare and a common
    search."""
    bust = f"{BUSTER}=explain-{secrets.token_hex(4)}"
    low, high = catalog_data.PRICE_BANDS[0]
    queries = [
        ("list1", ""),
        ("filtered", urlencode({"category": category_id, "min_price": low, "max_price": high})),
    ]
    queries += [(f"search {term}", urlencode({"search": term})) for term in catalog_data.PLAN_SEARCH_TERMS]
    urls = [[name, f"{API}?{query}&{bust}" if query else f"{API}?{bust}"] for name, query in queries]
    env = {**stack.env(), "BENCH_EXPLAIN": json.dumps(urls)}
    data = json.loads(stack.manage("shell", "-c", EXPLAIN, env=env).strip().splitlines()[-1])
    for plan in data["plans"]:
        plan["indexes"] = sorted(set(INDEX_USE.findall(plan["plan"])))
        plan["trigram_index_used"] = any(name.endswith("_trgm") for name in plan["indexes"])
        found = EXECUTION_TIME.search(plan["plan"])
        plan["execution_ms"] = float(found.group(1)) if found else None
    return data


@dataclass
class Stream:
    """One request type: its distinct URLs (`variants`), rendered for either side."""

    name: str
    variants: list  # query strings, or product ids for the detail
    warm_count: int  # how many of the variants the warm requests rotate over

    def path(self, side: str, index: int, bust: str | None = None) -> str:
        variant = self.variants[index % len(self.variants)]
        base = API if side == "ours" else FLOOR
        if self.name == "detail":
            path, query = f"{base}{variant}/", ""
        else:
            path, query = base, variant
        if bust is not None:
            query = f"{query}&{BUSTER}={bust}" if query else f"{BUSTER}={bust}"
        return f"{path}?{query}" if query else path

    def maker(self, side: str, mode: str, tag: str):
        """Cold: every index a URL of its own. Warm: the first `warm_count` variants, prepared once."""
        if mode == "cold":
            return lambda index: Request("GET", self.path(side, index, f"{tag}-{index}"), kind=self.name)
        warm = [Request("GET", self.path(side, i), kind=self.name) for i in range(self.warm_count)]
        return lambda index: warm[index % len(warm)]


def build_streams(names: list[str], categories: list[tuple[int, str]], ids: list[int], warm_ids: int) -> dict:
    filtered = [
        urlencode(
            {
                # every other request names its category by slug: both lookups the API offers
                "category": slug if (n + band) % 2 else pk,
                "min_price": low,
                "max_price": high,
            }
        )
        for n, (pk, slug) in enumerate(categories)
        for band, (low, high) in enumerate(catalog_data.PRICE_BANDS)
    ]
    # Categories and bands interleaved, so consecutive requests differ in both.
    filtered = [filtered[(i * 53) % len(filtered)] for i in range(len(filtered))]
    searches = [urlencode({"search": term}) for term in catalog_data.SEARCH_TERMS]
    count = len(ids)
    step = DETAIL_ID_STEP if count % DETAIL_ID_STEP else 1
    scattered = [ids[(i * step) % count] for i in range(count)]
    build = {
        "list1": lambda: Stream("list1", [""], 1),
        "filtered": lambda: Stream("filtered", filtered, len(filtered)),
        "search": lambda: Stream("search", searches, len(searches)),
        "detail": lambda: Stream("detail", scattered, min(warm_ids, count)),
    }
    return {name: build[name]() for name in names}


def fetch_json(server: Gunicorn, path: str) -> dict:
    status, body = http_call(server.port, "GET", path)
    if status != 200:
        raise RuntimeError(f"{path} answered {status}: {body[:300]!r}\n{server.log_tail()}")
    return json.loads(body)


def check_floor(server: Gunicorn, streams: dict[str, Stream]) -> None:
    """Ours and the floor must answer the same rows with the same fields, or the ratio means nothing.
    Checked on several variants of each type, through the cache-bypassing URLs."""
    for stream in streams.values():
        for index in range(min(4, len(stream.variants))):
            ours = fetch_json(server, stream.path("ours", index, f"check-{index}"))
            floor = fetch_json(server, stream.path("floor", index, f"check-{index}"))
            if "results" in ours:
                same = (
                    (ours["count"], ours["count_capped"]) == (floor["count"], floor["count_capped"])
                    and [r["id"] for r in ours["results"]] == [r["id"] for r in floor["results"]]
                    and ours.keys() == floor.keys()
                    and all(
                        a.keys() == b.keys() for a, b in zip(ours["results"], floor["results"], strict=True)
                    )
                )
            else:
                same = ours["id"] == floor["id"] and ours.keys() == floor.keys()
            if not same:
                raise RuntimeError(
                    f"{stream.name}: the floor does not answer what the API does:\n{ours}\n{floor}"
                )


class CatalogCache:
    """The catalog's entries in Redis under the run's key prefix (apps/products/cache.py):
    `catalog:version` and one `catalog:<version>:<kind>:<digest>` per cached answer."""

    def __init__(self, client: redis.Redis, prefix: str):
        self.client = client
        self.pattern = f"{prefix}:*:catalog:*"

    def _keys(self) -> list[bytes]:
        return list(self.client.scan_iter(match=self.pattern, count=1000))

    def entries(self) -> int:
        return sum(not key.endswith(b":catalog:version") for key in self._keys())

    def clear(self, *, version_too: bool = False) -> None:
        keys = [key for key in self._keys() if version_too or not key.endswith(b":catalog:version")]
        for start in range(0, len(keys), 1000):
            self.client.delete(*keys[start : start + 1000])


# --- Measurement ------------------------------------------------------------------------------------------
@dataclass
class Measured:
    """Every run of one request type, in one cache mode, on one side."""

    closed: Series = field(default_factory=Series)
    open: dict[float, Series] = field(default_factory=dict)


def measure_size(args: argparse.Namespace, stack: Stack, cache: CatalogCache, streams: dict) -> dict:
    server = stack.start_server(
        workers=args.workers,
        worker_class=args.worker_class,
        threads=args.threads,
        settings_module=BENCH_SETTINGS,
    )
    try:
        check_floor(server, streams)
        log(f"the floor answers the same rows and fields as the API for: {', '.join(streams)}")
        log(f"hostile search terms: {', '.join(catalog_data.HOSTILE_SEARCH_TERMS)}, beside a word")
        hostile = probe_hostile_searches(server)
        generator = LoadGenerator(server.port, args.timeout)
        meter = CpuMeter(server.pid, stack.prefix)

        log("warming up (untimed, every request a cache miss)")
        for stream in streams.values():
            for side in ("ours", "floor"):
                warm = generator.closed_loop(
                    stream.maker(side, "cold", "warmup"), ok_200, args.clients, total=10 * args.clients
                )
                failed = [o.status for o in warm.outcomes if not o.ok]
                if failed:
                    raise RuntimeError(
                        f"warm-up of {stream.name} ({side}) failed: {failed[:10]}\n{server.log_tail()}"
                    )
        cache.clear()

        results: dict[str, dict[str, dict[str, Measured]]] = {}
        runs = 0

        def one_run(stream: Stream, mode: str, side: str, rate: float | None, number: int) -> None:
            nonlocal runs
            runs += 1
            make = stream.maker(side, mode, f"r{runs}")
            loop = "closed" if rate is None else f"{rate:g} req/s"
            log(f"round {number}/{args.rounds}: {stream.name} {mode} ({side}), {loop}")
            if side == "ours":
                if mode == "cold":
                    cache.clear()  # keeps Redis small; every cold URL is new anyway
                else:
                    store_warm_set(generator, stream, args.clients, server)
            settle(args.wait_idle)
            before = cache.entries() if side == "ours" else 0
            if rate is None:
                summary, run = measure_closed(generator, meter, make, args.clients, args.duration)
            else:
                summary, run = measure_open(generator, meter, make, rate, args.open_duration)
            if side == "ours":
                summary["cache_entries_written"] = cache.entries() - before
            drained = server.wait_drained()
            if drained > 1:
                summary["backlog_drain_seconds"] = round(drained, 1)
                log(f"the server worked off an overload's backlog for {drained:.0f} s before the next run")
            measured = results.setdefault(stream.name, {}).setdefault(mode, {}).setdefault(side, Measured())
            if rate is None:
                measured.closed.add(summary, run)
            else:
                measured.open.setdefault(rate, Series()).add(summary, run)

        for number in range(1, args.rounds + 1):
            # ours first in rounds 1, 3, ..., the floor first in 2, 4, ...: drift hits both alike
            sides = ("ours", "floor") if number % 2 else ("floor", "ours")
            for stream in streams.values():
                for mode in args.modes:
                    for side in sides:
                        one_run(stream, mode, side, None, number)
                    for rate in args.rates:
                        for side in sides:
                            one_run(stream, mode, side, rate, number)
        cache.clear()
    finally:
        server.stop()
    return {**summarize_size(results), "hostile_search": hostile}


def probe_hostile_searches(server: Gunicorn) -> list[dict]:
    """Each hostile term and the baseline word, one request at a time, every one a cache miss: the
    API's status and latency beside the floor's, which runs the unguarded query."""
    rows = []
    for term in (*catalog_data.HOSTILE_SEARCH_TERMS, catalog_data.HOSTILE_BASELINE_TERM):
        for side in ("ours", "floor"):
            base = API if side == "ours" else FLOOR
            statuses, latencies = [], []
            for n in range(HOSTILE_REQUESTS):
                path = f"{base}?{urlencode({'search': term, BUSTER: f'hostile-{secrets.token_hex(4)}-{n}'})}"
                began = time.perf_counter()
                status, _body = http_call(server.port, "GET", path, timeout=30.0)
                latencies.append((time.perf_counter() - began) * 1000)
                statuses.append(status)
            latencies.sort()
            rows.append(
                {
                    "term": term,
                    "side": side,
                    "statuses": sorted(set(statuses)),
                    "p50_ms": round(latencies[len(latencies) // 2], 1),
                    "max_ms": round(latencies[-1], 1),
                }
            )
    return rows


def store_warm_set(generator: LoadGenerator, stream: Stream, clients: int, server: Gunicorn) -> None:
    """Request every warm URL once, untimed, so that the warm run that follows only hits."""
    store = generator.closed_loop(stream.maker("ours", "warm", ""), ok_200, clients, total=stream.warm_count)
    failed = [o.status for o in store.outcomes if not o.ok]
    if failed:
        raise RuntimeError(
            f"storing the warm set of {stream.name} failed: {failed[:10]}\n{server.log_tail()}"
        )


def summarize_size(results: dict) -> dict:
    types = {}
    for name, modes in results.items():
        types[name] = {}
        for mode, sides in modes.items():
            entry = {}
            for side, measured in sides.items():
                entry[side] = {
                    "closed": pooled_closed(measured.closed),
                    "open": {f"{rate:g}": pooled_open(series) for rate, series in measured.open.items()},
                }
                if side == "ours":
                    all_runs = measured.closed.runs + [r for s in measured.open.values() for r in s.runs]
                    written = sum(r["cache_entries_written"] for r in all_runs)
                    requests = sum(r.get("requests", r.get("sent", 0)) for r in all_runs)
                    entry[side]["cache_misses"] = {"entries_written": written, "requests": requests}
            floor = entry.get("floor", {}).get("closed", {}).get("throughput_rps")
            if floor and "ours" in entry:
                entry["ours_over_floor"] = round(entry["ours"]["closed"]["throughput_rps"] / floor, 3)
            types[name][mode] = entry
    rounds = {
        name: {
            mode: {
                side: {
                    "closed": measured.closed.runs,
                    "open": {f"{rate:g}": series.runs for rate, series in measured.open.items()},
                }
                for side, measured in sides.items()
            }
            for mode, sides in modes.items()
        }
        for name, modes in results.items()
    }
    labelled = []
    for name, modes in rounds.items():
        for mode, sides in modes.items():
            for side, loops in sides.items():
                labelled += [
                    (f"{name} {mode} {side} closed round {n}", r) for n, r in enumerate(loops["closed"], 1)
                ]
                for rate, series in loops["open"].items():
                    labelled += [
                        (f"{name} {mode} {side} {rate} req/s round {n}", r) for n, r in enumerate(series, 1)
                    ]
    return {"types": types, "rounds": rounds, "noisy_runs": busy_runs(labelled)}


# --- Goals ------------------------------------------------------------------------------------------------
def p50_points(sizes: dict, rate: str) -> dict[int, dict[str, float]]:
    """Cold p50 at the open-loop `rate` (service time, not queueing), by size and list type."""
    points = {}
    for size, data in sizes.items():
        types = data.get("types", {})
        figures = {
            name: types[name]["cold"]["ours"]["open"][rate]["latency_ms"].get("p50")
            for name in LIST_TYPES
            if "cold" in types.get(name, {}) and rate in types[name]["cold"]["ours"]["open"]
        }
        if figures:
            points[int(size)] = figures
    return points


def load_earlier(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise RuntimeError(f"--compare-json {path}: {exc}") from exc
    if data.get("config", {}).get("scenario") != NAME:
        raise RuntimeError(f"--compare-json {path}: not a {NAME} run")
    return data


def evaluate_goals(args: argparse.Namespace, sizes: dict, earlier: dict | None) -> list[dict]:
    goals = []
    for size, data in sizes.items():
        for name, modes in data.get("types", {}).items():
            for mode, target in (("cold", COLD_LIST_GOAL), ("warm", WARM_GOAL)):
                if (mode == "cold" and name not in LIST_TYPES) or "ours_over_floor" not in modes.get(
                    mode, {}
                ):
                    continue
                ratio = modes[mode]["ours_over_floor"]
                goals.append(
                    {
                        "goal": f"{name} {mode}, {int(size):,} products: ours/floor req/s >= {target:g}",
                        "figure": ratio,
                        "met": ratio >= target,
                    }
                )
    rate = f"{args.rates[0]:g}"
    points = p50_points(sizes, rate)
    source = dict.fromkeys(points, "this run")
    if earlier is not None:
        earlier_rate = f"{earlier['config']['open_loop_rates'][0]:g}"
        for size, figures in p50_points(earlier.get("sizes", {}), earlier_rate).items():
            if size not in points:
                points[size], source[size] = figures, f"{args.compare_json}, at {earlier_rate} req/s"
    described = f"list1 cold p50 at {rate} req/s, largest size <= {SCALING_GOAL:g}x smallest"
    small, large = (min(points), max(points)) if points else (None, None)
    if (
        small is None
        or small == large
        or points[small].get("list1") is None
        or points[large].get("list1") is None
    ):
        goals.append(
            {
                "goal": described,
                "figure": None,
                "met": None,
                "note": "needs two sizes: --products 10000,1000000, or --compare-json of a run at another",
            }
        )
    else:
        factor = round(points[large]["list1"] / points[small]["list1"], 2)
        goals.append(
            {
                "goal": f"{described} ({large:,} vs {small:,} products)",
                "figure": factor,
                "met": factor <= SCALING_GOAL,
                "note": (
                    f"{points[large]['list1']} ms ({source[large]}) "
                    f"vs {points[small]['list1']} ms ({source[small]})"
                ),
            }
        )
        for name in ("filtered", "search"):
            if points[small].get(name) and points[large].get(name):
                goals.append(
                    {
                        "goal": f"{name} cold p50 at {rate} req/s, {large:,} vs {small:,} products (no goal)",
                        "figure": round(points[large][name] / points[small][name], 2),
                        "met": None,
                        "note": f"{points[large][name]} ms vs {points[small][name]} ms",
                    }
                )
    return goals


# --- The run ----------------------------------------------------------------------------------------------
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


# --- Report -----------------------------------------------------------------------------------------------
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
