"""The bookings scenario's data: providers, customers and about 200,000 bookings, deterministic.

- **People** (`SEED_PEOPLE`, run in the checkout's `manage.py shell`, the ORM's `bulk_create`):
  500 providers in the `provider` role, each with a `ProviderProfile` in one of six IANA zones and
  three of 20 services (products of one category); Mon-Fri 09:00-17:00, every other provider with
  a lunch gap (09:00-12:30 and 13:30-17:00). 5,000 customers who hold the seeded bookings, and the
  benchmark's own customers (`--customers`), who sign in through the API and make the new
  bookings; they share one real Argon2 hash (one hash each would cost 130 ms apiece for nothing).
- **Bookings** (`INSERT_BOOKINGS`, one `INSERT ... SELECT FROM generate_series`): for every
  provider and every weekday from 26 weeks back to 9 weeks ahead, the day's hourly positions
  (09:00 ... 16:00 on the provider's clock, 60 minutes; lunch-gap providers skip 12:00 and 13:00)
  are booked or not by `hashint8extended(...)`: about one working day in eight is *busy* (90% of
  its positions), one in twelve *empty*, the rest 28%. Past bookings are completed, cancelled or
  no-shows; future ones confirmed, pending or cancelled.

Why no two active bookings can overlap, so that the exclusion constraints accept every row:

- per provider, the positions of a day are distinct hours;
- per customer, the seeded customer of (provider i, position h, local date k) is
  `(8 i + h + 1237 k) mod 5000`: for one date the 4,000 (provider, position) pairs get distinct
  customers, and bookings on different local dates cannot overlap because, in the six zones
  used, local 09:00-17:00 of date k lies within [k 00:00, k 23:00) UTC (Tokyo at the one end,
  Chicago at the other).

`seed_bookings` drops the table's secondary indexes and its two exclusion constraints, inserts,
rebuilds the indexes and adds the constraints back from their own definitions (`ADD CONSTRAINT
... EXCLUDE`), which checks every row: an overlap would fail the seed, never pass unnoticed. Then
it proves the provider constraint refuses an overlapping INSERT.
"""

import json
import time
from dataclasses import asdict, dataclass
from datetime import date

import psycopg

# Local 09:00-17:00 of one date falls between 00:00 and 23:00 UTC of that date in all of these
# (see the module docstring): the customer assignment relies on it.
TIME_ZONES = (
    "Europe/London", "Europe/Berlin", "America/New_York", "America/Chicago", "Asia/Tokyo", "Asia/Kolkata",
)  # fmt: skip
SERVICES = 20
SERVICES_PER_PROVIDER = 3
SEED_CUSTOMERS = 5000  # holders of the seeded bookings; more than the 4,000 positions of one date
PAST_DAYS = 26 * 7
FUTURE_DAYS = 9 * 7
MINUTES = 60
FIRST_HOUR, LAST_HOUR = 9, 16  # booking starts on the provider's clock
LUNCH_HOURS = (12, 13)  # no booking starts then for lunch-gap providers
BUSY_DAY_MIN_ACTIVE = 5  # a "busy day" for the availability requests: at least this many active
FIRST_BOOKABLE_DAY = 2  # new bookings go at least this many days ahead (lead time: 60 minutes)
PROVIDER_ROLE, CUSTOMER_ROLE = "provider", "customer"
ACTIVE = ("pending", "confirmed")


def working_hours(index: int) -> list[tuple[int, str, str]]:
    """(weekday, start, end) of provider number `index`: Mon-Fri, a lunch gap for odd numbers."""
    day = [("09:00", "12:30"), ("13:30", "17:00")] if index % 2 else [("09:00", "17:00")]
    return [(weekday, start, end) for weekday in range(5) for start, end in day]


# Runs inside the measured checkout's `manage.py shell`, after `seed_permissions` made the roles.
SEED_PEOPLE = """
import json, os
from datetime import time, timedelta
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.utils import timezone
from apps.accounts.models import User
from apps.bookings.models import ProviderProfile, WorkingHours
from apps.products.models import Category, Product

spec = json.loads(os.environ["BENCH_SEED"])
now = timezone.now()
seeded_hash = make_password(spec["password"] + "-seeded")
bench_hash = make_password(spec["password"])
category = Category.objects.create(name="Appointments", slug="appointments", description="Bookable services.")
services = Product.objects.bulk_create(
    Product(
        category=category, name=f"Service {n:02d}", slug=f"service-{n:02d}", sku=f"SRV-{n:04d}",
        description="A bookable service.", price=20 + 5 * n, stock=1, is_active=True,
    )
    for n in range(spec["services"])
)

def people(prefix, count, password):
    return User.objects.bulk_create(
        [
            User(
                email=f"{prefix}-{i:05d}@example.com", username=f"{prefix}_{i:05d}",
                full_name=f"Bench {prefix.title()} {i}", password=password,
                email_verified_at=now, date_joined=now - timedelta(days=400),
            )
            for i in range(count)
        ],
        batch_size=1000,
    )

providers = people("provider", spec["providers"], seeded_hash)
customers = people("customer", spec["seed_customers"], seeded_hash)
bench = people("bench", spec["bench_customers"], bench_hash)
memberships = User.groups.through
provider_role, customer_role = Group.objects.get(name="provider"), Group.objects.get(name="customer")
memberships.objects.bulk_create(
    [memberships(user_id=u.pk, group_id=provider_role.pk) for u in providers]
    + [memberships(user_id=u.pk, group_id=customer_role.pk) for u in customers + bench],
    batch_size=2000,
)
zones = spec["time_zones"]
ProviderProfile.objects.bulk_create(
    ProviderProfile(user=u, time_zone=zones[i % len(zones)]) for i, u in enumerate(providers)
)
offered = ProviderProfile.products.through
links = []
for i, u in enumerate(providers):
    for j in range(spec["services_per_provider"]):
        service = services[(i * 7 + j * 3) % len(services)]
        links.append(offered(providerprofile_id=u.pk, product_id=service.pk))
offered.objects.bulk_create(links, batch_size=2000)
WorkingHours.objects.bulk_create(
    [
        WorkingHours(
            provider_id=u.pk, weekday=weekday, start=time.fromisoformat(a), end=time.fromisoformat(b)
        )
        for i, u in enumerate(providers)
        for weekday, a, b in spec["hours"][i % 2]
    ],
    batch_size=2000,
)
print(json.dumps({
    "providers": [u.pk for u in providers],
    "customers": [u.pk for u in customers],
    "bench": [{"id": u.pk, "email": u.email} for u in bench],
}))
"""

INSERT_BOOKINGS = """
WITH prov AS (
    SELECT pp.user_id AS provider_id, pp.time_zone AS tz, (row_number() OVER (ORDER BY pp.user_id) - 1) AS pi,
           (SELECT array_agg(s.product_id ORDER BY s.product_id)
              FROM bookings_providerprofile_products s WHERE s.providerprofile_id = pp.user_id) AS services
    FROM bookings_providerprofile pp
), days AS (
    SELECT k, %(base)s::date + k AS d
    FROM generate_series(-%(past_days)s::int, %(future_days)s::int - 1) AS k
    WHERE extract(isodow FROM %(base)s::date + k) <= 5
), slots AS (
    SELECT prov.*, days.k, days.d, h,
           hashint8extended(prov.provider_id * 1000003 + days.k, 7) & 9223372036854775807 AS day_hash,
           hashint8extended((prov.provider_id * 1000003 + days.k) * 31 + h, 8) & 9223372036854775807
               AS slot_hash
    FROM prov CROSS JOIN days CROSS JOIN generate_series(%(first_hour)s::int, %(last_hour)s::int) AS h
    WHERE prov.pi %% 2 = 0 OR h <> ALL (%(lunch_hours)s::int[])
), booked AS (
    SELECT slots.*,
           (d + make_time(h, 0, 0)) AT TIME ZONE tz AS starts,
           CASE WHEN day_hash %% 100 < 12 THEN 90 WHEN day_hash %% 100 >= 92 THEN 0 ELSE 28 END AS density
    FROM slots
), rows AS (
    SELECT booked.*,
           -- distinct customers for the (provider, hour) pairs of one local date: see the docstring
           (%(customers)s::bigint[])[
               1 + ((8 * pi + h + 1237 * (k + %(past_days)s)) %% cardinality(%(customers)s::bigint[]))
           ] AS customer_id,
           services[1 + (slot_hash / 101) %% cardinality(services)] AS product_id,
           (slot_hash / 10007) %% 100 AS fate,
           starts - make_interval(days => 1 + ((slot_hash / 1009) %% 30)::int) AS created
    FROM booked
    WHERE slot_hash %% 100 < density
)
INSERT INTO bookings_booking (
    created_at, updated_at, customer_id, provider_id, product_id, start, "end", status, price, notes,
    cancelled_at, cancelled_by_id, cancellation_reason, reminder_queued_at
)
SELECT r.created, r.created, r.customer_id, r.provider_id, r.product_id, r.starts,
       r.starts + make_interval(mins => %(minutes)s::int), r.status, p.price, '',
       CASE WHEN r.status = 'cancelled' THEN r.created + interval '1 hour' END,
       CASE WHEN r.status = 'cancelled' THEN r.customer_id END,
       CASE WHEN r.status = 'cancelled' THEN 'Plans changed.' ELSE '' END,
       NULL
FROM (
    SELECT rows.*,
           CASE WHEN starts < now() THEN
                    CASE WHEN fate < 80 THEN 'completed' WHEN fate < 92 THEN 'cancelled' ELSE 'no_show' END
                ELSE
                    CASE WHEN fate < 75 THEN 'confirmed' WHEN fate < 85 THEN 'pending' ELSE 'cancelled' END
           END AS status
    FROM rows
) r JOIN products_product p ON p.id = r.product_id
"""

# Indexes on bookings_booking that no constraint owns (the constraints' own: the primary key and
# the two exclusion constraints' GiST indexes, handled as constraints).
SECONDARY_INDEXES = """
SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
FROM pg_index i
WHERE i.indrelid = 'bookings_booking'::regclass
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
ORDER BY 1
"""
EXCLUSION_CONSTRAINTS = """
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = 'bookings_booking'::regclass AND contype = 'x' ORDER BY conname
"""


@dataclass
class SeedTiming:
    """Seconds spent seeding, and what the seed holds."""

    people_s: float = 0.0
    insert_s: float = 0.0
    index_s: float = 0.0
    constraints_s: float = 0.0
    vacuum_s: float = 0.0
    bookings: int = 0
    by_status: dict | None = None
    exclusion_constraints: list | None = None
    overlap_refused_by: str | None = None

    @property
    def total_s(self) -> float:
        return round(self.people_s + self.insert_s + self.index_s + self.constraints_s + self.vacuum_s, 1)

    def as_dict(self) -> dict:
        return {**asdict(self), "total_s": self.total_s}


def people_spec(args, password: str) -> str:
    return json.dumps(
        {
            "password": password,
            "providers": args.providers,
            "seed_customers": SEED_CUSTOMERS,
            "bench_customers": args.customers,
            "services": SERVICES,
            "services_per_provider": SERVICES_PER_PROVIDER,
            "time_zones": list(TIME_ZONES),
            "hours": [working_hours(0), working_hours(1)],
        }
    )


def seed_bookings(
    conn: psycopg.Connection, *, customers: list[int], base: date, timing: SeedTiming, probe_customer: int
) -> None:
    """All the bookings in one transaction: indexes and exclusion constraints dropped, rows
    inserted, indexes rebuilt, constraints added back (which validates every row)."""
    with conn.transaction():
        conn.execute("SET LOCAL maintenance_work_mem = '512MB'")
        conn.execute("SET LOCAL synchronous_commit = off")
        # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: checked at the end of the INSERT
        # instead, so that no trigger events are pending when the indexes are built.
        conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
        indexes = conn.execute(SECONDARY_INDEXES).fetchall()
        exclusions = conn.execute(EXCLUSION_CONSTRAINTS).fetchall()
        if len(exclusions) != 2:
            raise RuntimeError(
                f"expected the two exclusion constraints of migration 0002, found {exclusions}"
            )
        for name, _definition in exclusions:
            conn.execute(f"ALTER TABLE bookings_booking DROP CONSTRAINT {name}")
        for name, _definition in indexes:
            conn.execute(f"DROP INDEX {name}")
        began = time.perf_counter()
        cursor = conn.execute(
            INSERT_BOOKINGS,
            {
                "base": base,
                "past_days": PAST_DAYS,
                "future_days": FUTURE_DAYS,
                "first_hour": FIRST_HOUR,
                "last_hour": LAST_HOUR,
                "lunch_hours": list(LUNCH_HOURS),
                "customers": customers,
                "minutes": MINUTES,
            },
        )
        timing.bookings = cursor.rowcount
        inserted = time.perf_counter()
        for _name, definition in indexes:
            conn.execute(definition)
        indexed = time.perf_counter()
        for name, definition in exclusions:
            conn.execute(f"ALTER TABLE bookings_booking ADD CONSTRAINT {name} {definition}")
        constrained = time.perf_counter()
    timing.insert_s = round(inserted - began, 1)
    timing.index_s = round(indexed - inserted, 1)
    timing.constraints_s = round(constrained - indexed, 1)
    timing.exclusion_constraints = [
        f"{name} (validated: {valid})"
        for name, valid in conn.execute(
            "SELECT conname, convalidated FROM pg_constraint "
            "WHERE conrelid = 'bookings_booking'::regclass AND contype = 'x' ORDER BY conname"
        )
    ]
    timing.by_status = dict(
        conn.execute(
            "SELECT status, count(*) FROM bookings_booking GROUP BY status ORDER BY status"
        ).fetchall()
    )
    timing.overlap_refused_by = refuses_overlap(conn, probe_customer)


def refuses_overlap(conn: psycopg.Connection, customer: int) -> str | None:
    """The constraint that refuses a copy of an active booking's time for its provider, by a
    customer with no booking of their own (rolled back either way); None if the INSERT went in."""
    provider, start, end = conn.execute(
        'SELECT provider_id, start, "end" FROM bookings_booking '
        "WHERE status = 'confirmed' ORDER BY id LIMIT 1"
    ).fetchone()
    try:
        with conn.transaction():
            conn.execute(
                "INSERT INTO bookings_booking (created_at, updated_at, customer_id, provider_id, start, "
                '"end", status, notes, cancellation_reason) '
                "VALUES (now(), now(), %s, %s, %s, %s, 'pending', '', '')",
                [customer, provider, start, end],
            )
            raise _Rollback()
    except psycopg.errors.ExclusionViolation as exc:
        return exc.diag.constraint_name
    except _Rollback:
        return None


class _Rollback(Exception):
    pass
