"""What the catalog scenario is called and what it asks for: its request types, URLs and cache modes."""

from benchmarks.scenarios.catalog import data as catalog_data

NAME = "catalog"
SUMMARY = "public product list/search/detail, cache cold and warm, beside a plain-Django floor"
# `python -m benchmarks --smoke`: a run of a few seconds that proves the scenario still works.
SMOKE = [
    "--products", "200", "--clients", "2", "--duration", "0.5", "--rates", "10", "--rounds", "1",
    "--warm-ids", "10", "--wait-idle", "0",
]  # fmt: skip

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
