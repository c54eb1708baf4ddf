"""Set-up: seeding the catalog, its query plans, the request streams, the floor check, and the
catalog cache in Redis."""

import json
import re
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import psycopg
import redis

from benchmarks.loadgen import Request
from benchmarks.options import log
from benchmarks.scenarios.catalog import data as catalog_data
from benchmarks.scenarios.catalog.common import API, BUSTER, DETAIL_ID_STEP, FLOOR
from benchmarks.stack import Gunicorn, Stack, http_call


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
