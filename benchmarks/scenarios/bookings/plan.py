"""What the load asks for, read back from the seeded database: the providers, the free slots
(rotating over the providers), the taken ones (each must be a 409), the busy and the empty days."""

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

import psycopg

from benchmarks.scenarios.bookings.data import (
    ACTIVE,
    BUSY_DAY_MIN_ACTIVE,
    FIRST_BOOKABLE_DAY,
    FUTURE_DAYS,
    MINUTES,
)


@dataclass(frozen=True)
class Provider:
    id: int
    tz: str
    services: tuple[int, ...]
    hours: tuple[tuple[int, clock, clock], ...]


@dataclass(frozen=True)
class Slot:
    provider: int
    service: int
    start: datetime  # UTC
    end: datetime

    def body(self) -> dict:
        return {
            "provider": self.provider,
            "service": self.service,
            "start": self.start.isoformat().replace("+00:00", "Z"),
            "duration_minutes": int((self.end - self.start).total_seconds() // 60),
        }


@dataclass
class Plan:
    """Everything the requests are made from, read back from the seeded database."""

    providers: dict[int, Provider]
    free: list[Slot]  # free, inside working hours, on the grid, ahead of the lead time; rotating providers
    taken: list[Slot]  # exactly an active booking's time: must be a 409
    busy_days: list[tuple[int, date, int]]  # (provider, local date, active bookings), busiest first
    empty_days: list[tuple[int, date]]  # working days with no booking at all


def load_providers(conn: psycopg.Connection) -> dict[int, Provider]:
    hours = defaultdict(list)
    for provider, weekday, start, end in conn.execute(
        'SELECT provider_id, weekday, start, "end" FROM bookings_workinghours '
        "ORDER BY provider_id, weekday, start"
    ):
        hours[provider].append((weekday, start, end))
    services = defaultdict(list)
    for provider, product in conn.execute(
        "SELECT providerprofile_id, product_id FROM bookings_providerprofile_products ORDER BY 1, 2"
    ):
        services[provider].append(product)
    return {
        pk: Provider(pk, tz, tuple(services[pk]), tuple(hours[pk]))
        for pk, tz in conn.execute("SELECT user_id, time_zone FROM bookings_providerprofile ORDER BY user_id")
    }


def windows(provider: Provider, day: date) -> list[tuple[datetime, datetime]]:
    """The provider's working intervals on their local `day`, as UTC instants (they never touch here)."""
    tz = ZoneInfo(provider.tz)
    return [
        (
            datetime.combine(day, start, tzinfo=tz).astimezone(UTC),
            datetime.combine(day, end, tzinfo=tz).astimezone(UTC),
        )
        for weekday, start, end in provider.hours
        if weekday == day.weekday()
    ]


def make_plan(conn: psycopg.Connection, now: datetime) -> Plan:
    """Free slots, taken slots, busy and empty days, from the bookings ahead of FIRST_BOOKABLE_DAY."""
    providers = load_providers(conn)
    horizon = now + timedelta(days=FUTURE_DAYS + 2)
    booked = defaultdict(list)  # provider -> [(start, end, status)]
    for provider, start, end, status in conn.execute(
        'SELECT provider_id, start, "end", status FROM bookings_booking '
        "WHERE start >= %s AND start < %s ORDER BY provider_id, start",
        [now, horizon],
    ):
        booked[provider].append((start, end, status))

    per_provider_free: dict[int, list[Slot]] = {}
    taken, busy_days, empty_days = [], [], []
    length = timedelta(minutes=MINUTES)
    for pk, provider in providers.items():
        tz = ZoneInfo(provider.tz)
        today = now.astimezone(tz).date()
        rows = booked[pk]
        active = [(s, e) for s, e, status in rows if status in ACTIVE]
        free = []
        for offset in range(FIRST_BOOKABLE_DAY, FUTURE_DAYS):
            day = today + timedelta(days=offset)
            spans = windows(provider, day)
            if not spans:
                continue
            lo, hi = spans[0][0], spans[-1][1]
            on_day = [(s, e, status) for s, e, status in rows if lo <= s < hi]
            day_active = [(s, e) for s, e, status in on_day if status in ACTIVE]
            if not on_day:
                empty_days.append((pk, day))
            if len(day_active) >= BUSY_DAY_MIN_ACTIVE:
                busy_days.append((pk, day, len(day_active)))
            for w_start, w_end in spans:
                start = w_start  # window starts are on the hour or half hour: on the 15-minute grid
                while start + length <= w_end:
                    end = start + length
                    if not any(s < end and start < e for s, e in active):
                        service = provider.services[len(free) % len(provider.services)]
                        free.append(Slot(pk, service, start, end))
                    start += length
        per_provider_free[pk] = free
        taken += [
            Slot(pk, provider.services[0], s, e)
            for s, e in active
            if s >= datetime.combine(today + timedelta(days=FIRST_BOOKABLE_DAY), clock(0), tzinfo=tz)
        ]
    return Plan(
        providers=providers,
        free=interleave(per_provider_free),
        taken=interleave(group(taken)),
        busy_days=sorted(busy_days, key=lambda item: (-item[2], item[1], item[0])),
        empty_days=empty_days,
    )


def group(slots: list[Slot]) -> dict[int, list[Slot]]:
    grouped = defaultdict(list)
    for slot in slots:
        grouped[slot.provider].append(slot)
    return grouped


def interleave(by_provider: dict[int, list[Slot]]) -> list[Slot]:
    """One slot of each provider in turn (providers in a scattered order), then another of each:
    consecutive requests go to different providers. Each provider's slots come in an order of
    their own (shuffled with the provider's id as the seed: deterministic), so that consecutive
    requests are for different days and hours, as real customers' are, and the few bench customers
    are rarely wanted at one time twice."""
    keys = sorted(by_provider)
    step = 7 if len(keys) % 7 else 1
    order = [keys[(i * step) % len(keys)] for i in range(len(keys))]
    queues = {}
    for pk in order:
        queues[pk] = list(by_provider[pk])
        random.Random(pk).shuffle(queues[pk])
    out = []
    while any(queues.values()):
        for pk in order:
            if queues[pk]:
                out.append(queues[pk].pop())
    return out
