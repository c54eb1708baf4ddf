"""requests: the user API's read requests beside the "floor", a plain Django view of the same rows.

Seeds 10,000 users, signs in a staff user holding accounts.view_user through the API, and
measures GET /api/v1/users/ (page 1 and page 400), /api/v1/users/{id}/ and /api/v1/users/me/
against gunicorn with the production settings, each in closed loop (C clients back to back:
capacity) and open loop (a fixed rate: latency), next to the same rows served by a plain
Django function view (no DRF, no auth, no throttles) from the same gunicorn in the same run.
Also records the gunicorn workers' memory after warm-up, 1,000 and 10,000 requests. With
--template, the full-stack FastAPI template's backend answers the same four reads from its own
database and uvicorn in the same rounds (benchmarks/template.py), for an ours/template ratio.

    .venv/bin/python -m benchmarks requests
    .venv/bin/python -m benchmarks requests --repo /tmp/bench-base --json var/bench-base.json
    .venv/bin/python -m benchmarks requests --template ../full-stack-fastapi-template/backend
"""

import argparse
import json
import secrets
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path

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
from benchmarks.options import add_stack_options, log, non_negative_int, positive_float, positive_int
from benchmarks.probes import CpuMeter, rss_kib
from benchmarks.report import machine, ms, now_utc, print_cpu_table, print_rows, table, write_json
from benchmarks.stack import BENCH_SETTINGS, Gunicorn, Stack, Target, http_call
from benchmarks.stats import latency_ms
from benchmarks.template import TemplateApp, TemplateCheckout

NAME = "requests"
SUMMARY = "user list/detail/me reads beside a plain-Django floor: req/s, latency, worker memory"

# Every request comes from one user at one address, so the general limits (120/minute anonymous,
# 1200/minute per user) would answer almost everything with 429. They are raised, and the
# throttles still run on every API request against Redis. Per-second windows: where the throttle
# is DRF's sliding window (a pickled list of one timestamp per request in the window, read and
# rewritten on each request, as at ef43124), the list then holds about one second of requests,
# not the tens of thousands a per-minute window would pile up at these rates (production's
# 1200/minute caps it at 1,200).
BENCH_THROTTLES = {
    "THROTTLE_ANON_RATE": "1000000/second",
    "THROTTLE_USER_RATE": "1000000/second",
    "THROTTLE_LOGIN_RATE": "1000/minute",
}
PRODUCTION_THROTTLES = "anon 120/minute, user 1200/minute, login 30/minute"
# The access token must outlive the run (production: 15 minutes).
BENCH_TOKEN_MINUTES = "120"
DEEP_PAGE = 400
PAGE_SIZE = 20
DEEP_OFFSET = (DEEP_PAGE - 1) * PAGE_SIZE
RSS_CHECKPOINT = 1000
SIDES = ("ours", "floor", "template")

TYPES = {
    "list1": "GET /api/v1/users/ (page 1: 20 rows + count)",
    "deep": f"GET /api/v1/users/?page={DEEP_PAGE} (OFFSET {DEEP_OFFSET})",
    "detail": "GET /api/v1/users/{id}/ (ids rotate over all users)",
    "me": "GET /api/v1/users/me/ (no floor: the floor has no signed-in user)",
}
# The template's request for each type (benchmarks/template.py builds them).
TEMPLATE_TYPES = {
    "list1": f"GET /api/v1/users/?skip=0&limit={PAGE_SIZE} (20 rows + count, newest first)",
    "deep": f"GET /api/v1/users/?skip={DEEP_OFFSET}&limit={PAGE_SIZE} (OFFSET {DEEP_OFFSET})",
    "detail": "GET /api/v1/users/{id} (UUIDs rotate over all users, same scattered order)",
    "me": "GET /api/v1/users/me",
}


def type_list(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = sorted(set(names) - TYPES.keys())
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(TYPES)}: {value}")
    return names


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
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
    add("--rate", type=positive_float, default=50.0, help="open-loop requests per second (%(default)s)")
    add("--open-duration", type=positive_float, help="seconds of each open-loop run (--duration)")
    add("--rounds", type=positive_int, default=2, help="rounds, ours and floor alternating (%(default)s)")
    add("--users", type=positive_int, default=10_000, help="users to seed (%(default)s)")
    add("--types", type=type_list, default=list(TYPES), help=f"request types ({','.join(TYPES)})")
    add(
        "--wait-idle",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="before each run, wait up to this long for other processes to go quiet; 0: don't (%(default)s)",
    )
    add(
        "--rss-requests",
        type=non_negative_int,
        default=10_000,
        help="mixed requests sent between memory readings; 0 skips them (%(default)s)",
    )
    add(
        "--template",
        type=Path,
        metavar="PATH",
        help="also measure the full-stack FastAPI template: its backend/ directory, with its own .venv",
    )
    add(
        "--template-index",
        action="store_true",
        help="add an index on the template's user.created_at, which its list sorts on (it ships without)",
    )
    add(
        "--template-close",
        action="store_true",
        help="send the template Connection: close, a TCP connect per request as with gunicorn's sync workers",
    )
    add_stack_options(parser)


# --- Set-up -----------------------------------------------------------------------------------------------
# Runs inside the measured checkout's `manage.py shell`. One password hash for every seeded user
# (10,000 Argon2 hashes would take 20 minutes); the staff user gets a real one, as it signs in.
SEED = """
import json, os
from datetime import timedelta
from django.contrib.auth.hashers import get_hasher, make_password
from django.contrib.auth.models import Permission
from django.utils import timezone
from apps.accounts.models import User

count = int(os.environ["BENCH_SEED_USERS"])
staff = json.loads(os.environ["BENCH_STAFF"])
shared_hash = make_password(staff["password"] + "-seeded")
now = timezone.now()
User.objects.bulk_create(
    [
        User(
            email=f"user-{i:05d}@example.com",
            username=f"user_{i:05d}",
            full_name=f"Bench User {i}",
            phone=f"+44 20 7946 {i % 10000:04d}",
            password=shared_hash,
            email_verified_at=now - timedelta(days=i % 365) if i % 3 else None,
            date_joined=now - timedelta(minutes=count - i),
            last_login=now - timedelta(hours=i % 500) if i % 2 else None,
        )
        for i in range(count)
    ],
    batch_size=1000,
)
user = User.objects.create_user(staff["email"], staff["username"], staff["password"], is_staff=True)
user.user_permissions.add(Permission.objects.get(content_type__app_label="accounts", codename="view_user"))
hasher = get_hasher()
print(json.dumps({
    "ids": list(User.objects.exclude(pk=user.pk).order_by("id").values_list("id", flat=True)),
    "staff_id": user.pk,
    "hasher": f"{type(hasher).__module__}.{type(hasher).__qualname__}",
}))
"""


@dataclass
class Seed:
    ids: list[int]
    staff_id: int
    staff: dict


def seed(stack: Stack, count: int) -> Seed:
    staff = {
        "email": "bench-staff@example.com",
        "username": "bench_staff",
        "password": secrets.token_urlsafe(16),
    }
    env = {**stack.env(), "BENCH_SEED_USERS": str(count), "BENCH_STAFF": json.dumps(staff)}
    data = json.loads(stack.manage("shell", "-c", SEED, env=env).strip().splitlines()[-1])
    return Seed(ids=data["ids"], staff_id=data["staff_id"], staff=staff)


def sign_in(server: Gunicorn, staff: dict) -> str:
    """The staff user's access token, from the API's own login (so it has a real session)."""
    body = {"email": staff["email"], "password": staff["password"]}
    status, response = http_call(server.port, "POST", "/api/v1/auth/login/", body)
    if status != 200:
        raise RuntimeError(f"staff login answered {status}: {response[:300]!r}\n{server.log_tail()}")
    return json.loads(response)["access"]


@dataclass
class RequestType:
    name: str
    ours: list[Request]
    floor: list[Request] | None
    template: list[Request] | None = None

    def sides(self) -> list[str]:
        return [side for side in SIDES if self.requests(side)]

    def requests(self, side: str) -> list[Request] | None:
        return getattr(self, side)

    def maker(self, side: str):
        requests = self.requests(side)
        return lambda index: requests[index % len(requests)]


def scattered(ids: list) -> list:
    """Every id once, in a scattered order (7919 is prime, so this is a permutation unless it
    divides the count), so consecutive requests do not read neighbouring rows."""
    n = len(ids)
    step = 7919 if n % 7919 else 1
    return [ids[(i * step) % n] for i in range(n)]


def request_types(names: list[str], data: Seed, token: str) -> list[RequestType]:
    auth = (("Authorization", f"Bearer {token}"),)
    ids = scattered(data.ids)

    def ours(path: str, kind: str) -> Request:
        return Request("GET", path, headers=auth, kind=kind)

    def floor(path: str, kind: str) -> Request:
        return Request("GET", path, kind=kind)

    build = {
        "list1": lambda: RequestType(
            "list1", [ours("/api/v1/users/", "list1")], [floor("/__floor__/users/", "list1")]
        ),
        "deep": lambda: RequestType(
            "deep",
            [ours(f"/api/v1/users/?page={DEEP_PAGE}", "deep")],
            [floor(f"/__floor__/users/?page={DEEP_PAGE}", "deep")],
        ),
        "detail": lambda: RequestType(
            "detail",
            [ours(f"/api/v1/users/{pk}/", "detail") for pk in ids],
            [floor(f"/__floor__/users/{pk}/", "detail") for pk in ids],
        ),
        "me": lambda: RequestType("me", [ours("/api/v1/users/me/", "me")], None),
    }
    return [build[name]() for name in names]


def add_template_side(types: list[RequestType], template: TemplateApp, data) -> list[str]:
    """The template's requests beside ours (its users in the same scattered order), checked."""
    token = template.sign_in()
    requests = template.requests(token, DEEP_OFFSET, scattered(data.ids))
    wanted = {kind.name: requests[kind.name] for kind in types}
    checked = template.check(wanted, data, DEEP_OFFSET)
    for kind in types:
        kind.template = wanted[kind.name]
    return checked


def fetch_json(server: Gunicorn, request: Request) -> dict:
    status, body = http_call(server.port, request.method, request.path, headers=dict(request.headers))
    if status != 200:
        raise RuntimeError(f"{request.path} answered {status}: {body[:300]!r}\n{server.log_tail()}")
    return json.loads(body)


def check_floor(server: Gunicorn, types: list[RequestType], data: Seed) -> list[str]:
    """Ours and the floor must answer the same rows with the same fields, or the ratio means nothing."""
    checked = []
    for kind in types:
        ours = fetch_json(server, kind.ours[0])
        if kind.name == "me":
            if ours.get("id") != data.staff_id:
                raise RuntimeError(f"users/me/ answered {ours.get('id')}, not the staff user {data.staff_id}")
            continue
        floor = fetch_json(server, kind.floor[0])
        if "results" in ours:
            same = ours["count"] == floor["count"] and [r["id"] for r in ours["results"]] == [
                r["id"] for r in floor["results"]
            ]
            same = (
                same
                and len(ours["results"]) == 20
                and ours["results"][0].keys() == floor["results"][0].keys()
            )
        else:
            same = ours["id"] == floor["id"] and ours.keys() == floor.keys()
        if not same:
            raise RuntimeError(f"{kind.name}: the floor does not answer what the API does:\n{ours}\n{floor}")
        checked.append(kind.name)
    return checked


# --- Measurement ------------------------------------------------------------------------------------------
@dataclass
class Measured:
    """Every run of one request type on one side (ours or floor)."""

    closed: Series = field(default_factory=Series)
    open: Series = field(default_factory=Series)


class MemoryLog:
    """VmRSS of every gunicorn worker at named moments."""

    def __init__(self, server: Gunicorn):
        self.server = server
        self.readings: list[dict] = []

    def read(self, label: str, requests_so_far: int) -> None:
        workers = {pid: rss_kib(pid) for pid in self.server.worker_pids()}
        self.readings.append({"label": label, "requests": requests_so_far, "rss_kib": workers})
        total = sum(v or 0 for v in workers.values())
        log(f"worker memory {label}: {total / 1024:.1f} MiB in {len(workers)} workers")


def run(args: argparse.Namespace) -> int:
    args.open_duration = args.open_duration or args.duration
    target = Target(args.repo.resolve())
    target.check()
    checkout = TemplateCheckout(args.template.resolve()) if args.template else None
    if checkout:
        checkout.check()
    revision, started = target.revision(), now_utc()  # before the run: a working tree can change during it
    extra_env = {**BENCH_THROTTLES, "JWT_ACCESS_TOKEN_MINUTES": BENCH_TOKEN_MINUTES}
    results: dict[str, dict[str, Measured]] = {}
    template_config: dict = {}
    sent = 0  # requests gunicorn has served, for the memory readings

    with Stack(target, args.postgres_url, args.redis_url, extra_env=extra_env) as stack, ExitStack() as extra:
        stack.create_databases()
        log(f"seeding {args.users} users (bulk insert, one shared password hash)")
        data = seed(stack, args.users)
        log("VACUUM (ANALYZE) on the default database")
        stack.databases.vacuum_analyze("default")
        template = None
        if checkout:
            # Closed before the stack: its server stops and its database is dropped first.
            work_dir = stack.tmp / "template"
            template = TemplateApp(
                checkout, args.postgres_url, stack.prefix, work_dir, add_index=args.template_index
            )
            extra.enter_context(template)
            template_data = template.set_up(args.users)
        server = stack.start_server(
            workers=args.workers,
            worker_class=args.worker_class,
            threads=args.threads,
            settings_module=BENCH_SETTINGS,
        )
        types = request_types(args.types, data, sign_in(server, data.staff))
        checked = check_floor(server, types, data)
        log(f"the floor answers the same rows and fields as the API for: {', '.join(checked) or 'none'}")

        generator = LoadGenerator(server.port, args.timeout)
        meter = CpuMeter(server.pid, stack.prefix)
        memory = MemoryLog(server)
        # Each side's load generator and CPU meter: the template has its own server and port. In
        # the CPU figures its uvicorn (master and workers) takes the place of gunicorn.
        generators = {"ours": generator, "floor": generator}
        meters = {"ours": meter, "floor": meter}
        logs = {"ours": server.log_tail, "floor": server.log_tail}
        if template:
            template_server = template.start_server(args.workers)
            checked = add_template_side(types, template, template_data)
            log(f"the template answers 200 with the expected rows for: {', '.join(checked)}")
            keep_alive = not args.template_close
            generators["template"] = LoadGenerator(template_server.port, args.timeout, keep_alive=keep_alive)
            meters["template"] = CpuMeter(template_server.pid, stack.prefix)
            logs["template"] = template_server.log_tail
            template_config = template.describe(template_data, workers=args.workers, keep_alive=keep_alive)

        log("warming up")
        for kind in types:
            for side in kind.sides():
                warm = generators[side].closed_loop(
                    kind.maker(side), ok_200, args.clients, total=10 * args.clients
                )
                if side != "template":
                    sent += len(warm.outcomes)
                failed = [o.status for o in warm.outcomes if not o.ok]
                if failed:
                    message = f"warm-up of {kind.name} ({side}) failed: {failed[:10]}"
                    raise RuntimeError(f"{message}\n{logs[side]()}")
        memory.read("after warm-up", sent)

        mixed_phase = None
        if args.rss_requests:
            ours = [kind.ours for kind in types]

            def mixed(index: int) -> Request:
                requests = ours[index % len(ours)]
                return requests[(index // len(ours)) % len(requests)]

            first = min(RSS_CHECKPOINT, args.rss_requests)
            log(f"sending {args.rss_requests} mixed requests ({', '.join(k.name for k in types)}), ours only")
            meter.start()
            runs = [generator.closed_loop(mixed, ok_200, args.clients, total=first)]
            sent += len(runs[0].outcomes)
            memory.read(f"after {first:,} mixed", sent)
            if args.rss_requests > first:
                runs.append(
                    generator.closed_loop(mixed, ok_200, args.clients, total=args.rss_requests - first)
                )
                sent += len(runs[1].outcomes)
                memory.read(f"after {args.rss_requests:,} mixed", sent)
            cpu = meter.stop()
            outcomes = [o for r in runs for o in r.outcomes]
            mixed_phase = {
                "requests": len(outcomes),
                "errors": sum(not o.ok for o in outcomes),
                "latency_ms": latency_ms(outcomes),
                "cpu_percent": asdict(cpu),
            }

        for round_number in range(args.rounds):
            for kind in types:
                # ours first in rounds 1, 3, ..., last in 2, 4, ... (the template, then the floor,
                # first): drift hits every side alike
                sides = kind.sides() if round_number % 2 == 0 else kind.sides()[::-1]
                for side in sides:
                    log(f"round {round_number + 1}/{args.rounds}: {kind.name} ({side}), closed loop")
                    settle(args.wait_idle)
                    summary, closed = measure_closed(
                        generators[side], meters[side], kind.maker(side), args.clients, args.duration
                    )
                    results.setdefault(kind.name, {}).setdefault(side, Measured()).closed.add(summary, closed)
                    if side != "template":
                        sent += len(closed.outcomes)
                for side in sides:
                    log(f"round {round_number + 1}/{args.rounds}: {kind.name} ({side}), {args.rate:g} req/s")
                    settle(args.wait_idle)
                    summary, opened = measure_open(
                        generators[side], meters[side], kind.maker(side), args.rate, args.open_duration
                    )
                    results[kind.name][side].open.add(summary, opened)
                    if side != "template":
                        sent += len(opened.outcomes)
        memory.read("at the end", sent)
        log("cleaning up")

    config = {**describe(args, target, revision, started, data), **template_config}
    report = build_report(types, results, memory, mixed_phase)
    print_report(args, config, report)
    if args.json:
        write_json(args.json, {"config": config, **report})
    return 0 if count_errors(report) == 0 else 1


# --- Report -----------------------------------------------------------------------------------------------
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
