"""login: open-loop logins (POST /api/v1/auth/login/) under the production settings.

Sends logins at a fixed rate and reports throughput and latency. A login is dominated by the
Argon2id password check, so this is the figure that sizes the web tier.

    .venv/bin/python -m benchmarks login --rate 10 --duration 20
"""

import argparse
import json
import secrets
from dataclasses import asdict, dataclass

from benchmarks.loadgen import LoadGenerator, Request
from benchmarks.options import add_stack_options, log, positive_float, positive_int
from benchmarks.probes import CpuMeter
from benchmarks.report import machine, now_utc, print_rows, write_json
from benchmarks.stack import PROD_SETTINGS, Stack, Target
from benchmarks.stats import Results, summarize

NAME = "login"
SUMMARY = "logins per second at a fixed rate (open loop); Argon2id sets the ceiling"
# `python -m benchmarks --smoke`: a run of a few seconds that proves the scenario still works.
SMOKE = ["--rate", "4", "--duration", "1", "--users", "2", "--warmup", "0"]
# All requests come from 127.0.0.1, so the per-IP login limit (30/minute by default) would
# turn almost every request into a 429. It is raised for the benchmark and reported as such.
BENCH_THROTTLE_LOGIN_RATE = "100000/minute"


@dataclass(frozen=True)
class BenchUser:
    email: str
    username: str
    password: str


class LoginScenario:
    """POST /api/v1/auth/login/ with valid credentials, rotating across the benchmark users."""

    name = NAME

    def __init__(self, users: list[BenchUser]):
        self.requests = [
            Request("POST", "/api/v1/auth/login/", {"email": user.email, "password": user.password})
            for user in users
        ]

    def request(self, index: int) -> Request:
        return self.requests[index % len(self.requests)]

    @staticmethod
    def is_success(status: int, body: bytes) -> bool:
        if status != 200:
            return False
        try:
            tokens = json.loads(body)
        except ValueError:
            return False
        return isinstance(tokens, dict) and {"access", "refresh"} <= tokens.keys()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--rate", type=positive_float, default=10.0, help="requests sent per second (%(default)s)")
    add("--duration", type=positive_float, default=20.0, help="seconds of sending (%(default)s)")
    add("--workers", type=positive_int, default=2, help="gunicorn sync workers (%(default)s)")
    add("--users", type=positive_int, default=20, help="benchmark users to create (%(default)s)")
    add("--warmup", type=int, help="untimed requests sent first; 0 for none (2 x workers)")
    add_stack_options(parser)


# Runs inside `manage.py shell`: creates the users and reports the password hasher in use.
CREATE_USERS = """
import json, os
from django.contrib.auth.hashers import get_hasher
from apps.accounts.models import User
for user in json.loads(os.environ["BENCH_USERS"]):
    User.objects.create_user(user["email"], user["username"], user["password"])
hasher = get_hasher()
params = ("memory_cost", "time_cost", "parallelism", "iterations")
print(json.dumps({
    "class": f"{type(hasher).__module__}.{type(hasher).__qualname__}",
    "algorithm": hasher.algorithm,
    **{name: getattr(hasher, name) for name in params if hasattr(hasher, name)},
}))
"""


def create_users(stack: Stack, count: int) -> tuple[list[BenchUser], dict]:
    password = secrets.token_urlsafe(16)
    users = [BenchUser(f"bench-{i}@example.com", f"bench_{i}", password) for i in range(count)]
    env = {**stack.env(), "BENCH_USERS": json.dumps([asdict(user) for user in users])}
    output = stack.manage("shell", "-c", CREATE_USERS, env=env)
    return users, json.loads(output.strip().splitlines()[-1])


def describe(args: argparse.Namespace, target: Target, revision: str, started: str, hasher: dict) -> dict:
    return {
        "git": revision,
        "repo": str(target.root),
        "started_at": started,
        "scenario": NAME,
        "rate_rps": args.rate,
        "duration_s": args.duration,
        "gunicorn_workers": args.workers,
        "users": args.users,
        "warmup_requests": args.warmup,
        "request_timeout_s": args.timeout,
        "settings": PROD_SETTINGS,
        "throttle_login_rate": f"{BENCH_THROTTLE_LOGIN_RATE} (raised for the benchmark; default 30/minute)",
        "password_hasher": hasher,
        **machine(),
    }


def print_report(config: dict, results: Results, cpu) -> None:
    errors = ", ".join(f"{status}: {count}" for status, count in results.errors.items()) or "none"
    latency = "  ".join(f"{name} {value}" for name, value in results.latency_ms.items()) or "-"
    print_rows(
        [
            ("Configuration", None),
            *config.items(),
            ("Results", None),
            ("requests sent", results.sent),
            ("successes (200)", results.successes),
            ("errors", errors),
            ("elapsed", f"{results.elapsed_s} s"),
            (
                "throughput (req/s)",
                f"{results.throughput_rps} completed, {results.success_throughput_rps} ok",
            ),
            ("latency ms (successes)", latency),
            ("max client start lag", f"{results.max_start_lag_ms} ms (near 0 unless the client fell behind)"),
            ("CPU, % of one core", cpu.line()),
        ]
    )


def run(args: argparse.Namespace) -> int:
    if args.warmup is None:
        args.warmup = 2 * args.workers
    target = Target(args.repo.resolve())
    target.check()
    revision, started = target.revision(), now_utc()
    with Stack(
        target,
        args.postgres_url,
        args.redis_url,
        extra_env={"THROTTLE_LOGIN_RATE": BENCH_THROTTLE_LOGIN_RATE},
    ) as stack:
        stack.create_databases()
        log(f"creating {args.users} users")
        users, hasher = create_users(stack, args.users)
        server = stack.start_server(workers=args.workers)

        scenario = LoginScenario(users)
        # A new connection per login, as before; gunicorn's sync workers close it anyway.
        generator = LoadGenerator(server.port, args.timeout, keep_alive=False)
        warm = generator.warm_up(scenario.request, scenario.is_success, args.warmup)
        if not all(o.ok for o in warm):
            raise RuntimeError(f"warm-up failed: {[o.status for o in warm]}\n{server.log_tail()}")
        log(f"sending {args.rate:g} req/s for {args.duration:g} s")
        meter = CpuMeter(server.pid, stack.prefix)
        meter.start()
        outcome = generator.open_loop(scenario.request, scenario.is_success, args.rate, args.duration)
        cpu = meter.stop()
        log("cleaning up")

    config = describe(args, target, revision, started, hasher)
    results = summarize(outcome, args.duration)
    print_report(config, results, cpu)
    if args.json:
        write_json(args.json, {"config": config, "results": asdict(results), "cpu_percent": asdict(cpu)})
    return 0 if results.successes == results.sent else 1
