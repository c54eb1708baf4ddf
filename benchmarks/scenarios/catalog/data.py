"""The catalog scenario's data: 50 categories and N products, written by PostgreSQL itself.

One `INSERT ... SELECT FROM generate_series` makes every product from a handful of word lists:
row *i*'s name, SKU, description, price, stock, category, activity and dates are functions of
`hashint8extended(i, k)`, so the same *i* always gives the same product, and a catalog grown from
10,000 to 1,000,000 rows (`grow_products`) holds the products a fresh 1,000,000-row seed would
(their dates count back from the moment each part was inserted).

- names like "Rugged Walnut Kettle Pro 42", descriptions of about 170 characters of words (a line
  naming the product and three different sentences), so a `search` term has real trigram work to
  do (matching from a handful of rows to about 15% of them);
- prices log-uniform from 1.99 to 1999.99 (more cheap products than dear ones), about 8% of
  products out of stock, about 1% inactive (hidden from the public), dates over two years;
- the secondary indexes (B-tree and the trigram GIN indexes of migration 0002) are dropped
  before the insert and rebuilt from their own definitions after it, with a large
  `maintenance_work_mem`: building an index once is several times faster than updating it a
  million times. The primary key and the unique constraints (slug, SKU) stay and are checked.

A million products take about 90 s on 2 cores: 30 s to insert, 60 s to build the indexes (most of
it the trigram indexes).
"""

import re
import time
from dataclasses import asdict, dataclass

import psycopg

CATEGORIES = (
    "Kitchen", "Dining", "Bakeware", "Coffee & Tea", "Home Decor", "Lighting", "Furniture", "Bedding",
    "Bath", "Storage", "Cleaning", "Laundry", "Garden", "Outdoor Living", "Camping", "Hiking",
    "Cycling", "Water Sports", "Fitness", "Yoga", "Running", "Team Sports", "Travel", "Luggage",
    "Bags", "Footwear", "Outerwear", "Knitwear", "Accessories", "Watches", "Jewellery", "Audio",
    "Computing", "Phones", "Cameras", "Gaming", "Smart Home", "Office", "Stationery", "Art Supplies",
    "Crafts", "Music", "Books", "Toys", "Baby", "Pets", "Tools", "Workshop", "Automotive", "Gifts",
)  # fmt: skip
ADJECTIVES = (
    "compact", "classic", "deluxe", "ergonomic", "portable", "rugged", "vintage", "modern", "premium",
    "lightweight", "wireless", "foldable", "heavy-duty", "slim", "smart", "organic", "handmade",
    "insulated", "adjustable", "waterproof", "stackable", "minimalist", "rustic", "cordless",
    "reversible", "breathable", "modular", "stainless", "padded", "quilted", "weatherproof",
    "collapsible", "essential", "signature", "everyday", "professional", "studio", "travel",
    "nordic", "artisan",
)  # fmt: skip
MATERIALS = (
    "steel", "bamboo", "walnut", "oak", "cotton", "linen", "wool", "leather", "ceramic", "glass",
    "copper", "brass", "aluminium", "silicone", "granite", "marble", "cork", "titanium", "canvas",
    "felt", "porcelain", "cedar", "hemp", "carbon", "rattan",
)  # fmt: skip
NOUNS = (
    "kettle", "lamp", "chair", "backpack", "blender", "mug", "notebook", "headphones", "speaker",
    "desk", "jacket", "tent", "bottle", "knife", "pan", "skillet", "stool", "shelf", "rug", "pillow",
    "blanket", "watch", "wallet", "umbrella", "helmet", "drill", "saw", "hammer", "toolbox",
    "planter", "vase", "clock", "mirror", "keyboard", "mouse", "monitor stand", "charger", "cable",
    "router", "camera", "tripod", "bicycle", "scooter", "kayak", "paddle", "grill", "cooler",
    "thermos", "teapot", "grinder", "scale", "toaster", "whisk", "cutting board", "colander",
    "apron", "sneakers", "boots", "scarf", "gloves",
)  # fmt: skip
COLOURS = (
    "black", "white", "charcoal", "slate grey", "navy", "olive", "forest green", "sand", "terracotta",
    "mustard", "burgundy", "sky blue", "blush pink", "ivory", "natural",
)  # fmt: skip
SERIES = ("Pro", "Lite", "Max", "Mini", "Plus", "Air", "One", "Duo", "Go", "XL", "Classic", "Edge")
SENTENCES = (  # twenty: INSERT_PRODUCTS picks three different ones by their positions
    "Built to last with a reinforced frame.",
    "Dishwasher safe and easy to clean.",
    "Ships in recycled, plastic-free packaging.",
    "Covered by a two-year warranty.",
    "Designed in Copenhagen and made in Portugal.",
    "Fits neatly into small kitchens and apartments.",
    "The finish darkens gently with age.",
    "Tested for everyday use over thousands of cycles.",
    "Pairs well with the rest of the collection.",
    "Assembly takes about ten minutes with the included tools.",
    "Hand wash only; do not tumble dry.",
    "Certified by an independent safety laboratory.",
    "Each piece is inspected by hand before it leaves the workshop.",
    "Spare parts are available for ten years.",
    "A favourite of professional chefs and home cooks alike.",
    "Water resistant to light rain and splashes.",
    "The battery lasts a full day on a single charge.",
    "Suitable for indoor and outdoor use.",
    "Non-slip feet protect your floors and worktops.",
    "Available while stocks last.",
)
assert len(SENTENCES) == 20
# Search terms the scenario rotates over, from rare to common: SKU fragments (a few dozen rows at
# any size from 10,000 up), nouns (1.7% of the products each), materials and adjectives (2.5-4%),
# colours (7%), a fragment of a word, and words of the descriptions' sentences (about 15%).
SEARCH_TERMS = (
    "KET-0001", "LAM-00042", "kettle", "tripod", "cutting board", "walnut", "brass", "linen", "ceram",
    "ergonomic", "waterproof", "olive", "terracotta", "dishwasher", "warranty", "Copenhagen",
)  # fmt: skip
# Terms no trigram can narrow (an outside test timed them at 200-280 ms uncached with 200,000
# products, against 37 ms for a word): the API refuses them (400); the floor, which has no such
# rule, runs them, so its figures are what each would cost without it.
HOSTILE_SEARCH_TERMS = ("%%%", "___", "a_b")
# The word they are compared with.
HOSTILE_BASELINE_TERM = "walnut"
# The search terms whose plans the report prints: a rare one and a middling one.
PLAN_SEARCH_TERMS = ("KET-0001", "walnut")
# (min_price, max_price) bands for the filtered list; with log-uniform prices each holds about a
# fifth to a third of a category.
PRICE_BANDS = (("2", "25"), ("25", "100"), ("100", "500"), ("500", "2000"))

INSERT_PRODUCTS = """
WITH words AS (
    SELECT %(adjectives)s::text[] AS adj, %(materials)s::text[] AS mat, %(nouns)s::text[] AS noun,
           %(colours)s::text[] AS col, %(series)s::text[] AS ser, %(sentences)s::text[] AS sen,
           %(categories)s::bigint[] AS cat
), g AS (
    SELECT i,
           hashint8extended(i, 1) & 9223372036854775807 AS h1,
           hashint8extended(i, 2) & 9223372036854775807 AS h2,
           hashint8extended(i, 3) & 9223372036854775807 AS h3,
           hashint8extended(i, 4) & 9223372036854775807 AS h4
    FROM generate_series(%(start)s::bigint, %(stop)s::bigint) AS i
), p AS (
    SELECT g.*,
           w.adj[1 + h1 %% cardinality(w.adj)] AS adj,
           w.mat[1 + (h1 / 1009) %% cardinality(w.mat)] AS mat,
           w.noun[1 + h2 %% cardinality(w.noun)] AS noun,
           w.col[1 + (h2 / 1009) %% cardinality(w.col)] AS col,
           w.ser[1 + (h3 / 1009) %% cardinality(w.ser)] AS ser,
           -- three different sentences: the second 1-9 places after the first, the third 10-19
           w.sen[1 + h4 %% 20] AS s1,
           w.sen[1 + (h4 + 1 + (h4 / 1009) %% 9) %% 20] AS s2,
           w.sen[1 + (h4 + 10 + (h4 / 1018081) %% 10) %% 20] AS s3,
           w.cat[1 + (h3 / 1000003) %% cardinality(w.cat)] AS category_id,
           now() - make_interval(secs => (h2 / 7) %% (730 * 86400)) AS created
    FROM g CROSS JOIN words w
)
INSERT INTO products_product (
    created_at, updated_at, name, slug, sku, description, price, stock, low_stock_threshold,
    is_active, category_id, image
)
SELECT created,
       LEAST(now(), created + make_interval(secs => (h3 / 13) %% (30 * 86400))),
       initcap(adj) || ' ' || initcap(mat) || ' ' || initcap(noun) || ' ' || ser || ' ' || (10 + h1 %% 90),
       replace(lower(adj || ' ' || mat || ' ' || noun || ' ' || ser), ' ', '-') || '-' || i,
       upper(left(mat, 3)) || '-' || upper(left(replace(noun, ' ', ''), 3)) || '-' || lpad(i::text, 7, '0'),
       initcap(adj) || ' ' || mat || ' ' || noun || ' in ' || col || '. ' || s1 || ' ' || s2 || ' ' || s3,
       round(exp(ln(2.0) + (h3 %% 1000000) / 1000000.0 * ln(1000.0))::numeric, 0) - 0.01,
       CASE WHEN h4 %% 100 < 8 THEN 0 ELSE 1 + (h4 / 100) %% 500 END,
       5,
       (h2 / 1000003) %% 100 <> 0,
       category_id,
       ''
FROM p
"""

# Indexes on products_product that no constraint owns: every secondary index (the primary key and
# the unique constraints on slug and SKU stay).
SECONDARY_INDEXES = """
SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
FROM pg_index i
WHERE i.indrelid = 'products_product'::regclass
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
ORDER BY 1
"""


@dataclass
class SeedTiming:
    """Seconds spent making the catalog reach `products` rows."""

    products: int
    added: int
    insert_s: float
    index_s: float
    vacuum_s: float = 0.0

    @property
    def total_s(self) -> float:
        return round(self.insert_s + self.index_s + self.vacuum_s, 1)

    def as_dict(self) -> dict:
        return {**asdict(self), "total_s": self.total_s}


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def seed_categories(conn: psycopg.Connection) -> list[tuple[int, str]]:
    """The 50 categories, all active: (id, slug) of each."""
    with conn.transaction():
        rows = conn.execute(
            """
            INSERT INTO products_category (created_at, updated_at, name, slug, description, is_active)
            SELECT now(), now(), name, slug, 'Everything for ' || lower(name) || '.', true
            FROM unnest(%s::text[], %s::text[]) AS c(name, slug)
            RETURNING id, slug
            """,
            [list(CATEGORIES), [slugify(name) for name in CATEGORIES]],
        ).fetchall()
    return [(row[0], row[1]) for row in rows]


def grow_products(conn: psycopg.Connection, *, start: int, stop: int, category_ids: list[int]) -> SeedTiming:
    """Add products start..stop (1-based, inclusive) in one transaction: secondary indexes
    dropped, rows inserted, indexes rebuilt."""
    with conn.transaction():
        conn.execute("SET LOCAL maintenance_work_mem = '1GB'")
        conn.execute("SET LOCAL synchronous_commit = off")
        # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: checked at the end of the insert
        # instead, so that no trigger events are pending when the indexes are built.
        conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
        indexes = conn.execute(SECONDARY_INDEXES).fetchall()
        for name, _definition in indexes:
            conn.execute(f"DROP INDEX {name}")
        began = time.perf_counter()
        conn.execute(
            INSERT_PRODUCTS,
            {
                "adjectives": list(ADJECTIVES),
                "materials": list(MATERIALS),
                "nouns": list(NOUNS),
                "colours": list(COLOURS),
                "series": list(SERIES),
                "sentences": list(SENTENCES),
                "categories": category_ids,
                "start": start,
                "stop": stop,
            },
        )
        inserted = time.perf_counter()
        for _name, definition in indexes:
            conn.execute(definition)
        indexed = time.perf_counter()
    return SeedTiming(
        products=stop,
        added=stop - start + 1,
        insert_s=round(inserted - began, 1),
        index_s=round(indexed - inserted, 1),
    )
