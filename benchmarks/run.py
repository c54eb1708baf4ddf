"""Open-loop HTTP benchmark of the API under the production settings.

Builds a throwaway stack (three fresh PostgreSQL databases, gunicorn with
config.settings.prod), sends requests at a fixed rate and reports throughput and
latency. Everything it creates is removed on exit, including on Ctrl-C.

    .venv/bin/python benchmarks/run.py --rate 10 --duration 20

See benchmarks/README.md for what the figures mean.
"""

import argparse
import concurrent.futures
import http.client
import json
import math
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import psycopg
import redis
from psycopg import sql

REPO_ROOT = Path(__file__).resolve().parent.parent
PYTHON = REPO_ROOT / ".venv" / "bin" / "python"
DATABASE_ALIASES = ("default", "analytics", "logs")
HOST_HEADER = "localhost"
# All requests come from 127.0.0.1, so the per-IP login limit (30/minute by default) would
# turn almost every request into a 429. It is raised for the benchmark and reported as such.
BENCH_THROTTLE_LOGIN_RATE = "100000/minute"


# --- Scenarios ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: dict | None = None


@dataclass(frozen=True)
class BenchUser:
    email: str
    username: str
    password: str


class Scenario(Protocol):
    """What to send as request number `index`, and which responses count as successes."""

    name: str

    def request(self, index: int) -> Request: ...

    def is_success(self, status: int, body: bytes) -> bool: ...


class LoginScenario:
    """POST /api/v1/auth/login/ with valid credentials, rotating across the benchmark users."""

    name = "login"

    def __init__(self, users: list[BenchUser]):
        self.users = users

    def request(self, index: int) -> Request:
        user = self.users[index % len(self.users)]
        return Request("POST", "/api/v1/auth/login/", {"email": user.email, "password": user.password})

    def is_success(self, status: int, body: bytes) -> bool:
        if status != 200:
            return False
        try:
            tokens = json.loads(body)
        except ValueError:
            return False
        return isinstance(tokens, dict) and {"access", "refresh"} <= tokens.keys()


# Add a scenario by writing a class built from the benchmark users, then registering it here.
SCENARIOS: dict[str, Callable[[list[BenchUser]], Scenario]] = {LoginScenario.name: LoginScenario}


# --- Command line ---------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--scenario", choices=sorted(SCENARIOS), default="login", help="what to measure (%(default)s)")
    add("--rate", type=positive_float, default=10.0, help="requests sent per second (%(default)s)")
    add("--duration", type=positive_float, default=20.0, help="seconds of sending (%(default)s)")
    add("--workers", type=positive_int, default=2, help="gunicorn sync workers (%(default)s)")
    add("--users", type=positive_int, default=20, help="benchmark users to create (%(default)s)")
    add("--warmup", type=int, help="untimed requests sent first; 0 for none (2 x workers)")
    add("--timeout", type=positive_float, default=30.0, help="per-request timeout in seconds (%(default)s)")
    add(
        "--postgres-url",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="database to create and drop the benchmark databases from; env BENCH_POSTGRES_URL (%(default)s)",
    )
    add(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
        help="Redis for the cache, throttles and broker; env BENCH_REDIS_URL (%(default)s)",
    )
    add("--json", type=Path, metavar="PATH", help="also write the configuration and results to PATH")
    args = parser.parse_args(argv)
    if args.warmup is None:
        args.warmup = 2 * args.workers
    return args


def positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {value}")
    return number


def positive_float(value: str) -> float:
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {value}")
    return number


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


# --- The stack: databases, settings, gunicorn -----------------------------------------------------------
class Databases:
    """Fresh PostgreSQL databases bench_<pid>_<alias>; drops only the ones it created."""

    def __init__(self, maintenance_url: str, prefix: str):
        self.maintenance_url = maintenance_url
        self.names = {alias: f"{prefix}_{alias}" for alias in DATABASE_ALIASES}
        self.created: list[str] = []

    def url(self, alias: str) -> str:
        return urlsplit(self.maintenance_url)._replace(path="/" + self.names[alias]).geturl()

    def create(self) -> None:
        with psycopg.connect(self.maintenance_url, autocommit=True) as conn:
            for name in self.names.values():
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                self.created.append(name)

    def drop(self) -> None:
        if not self.created:
            return
        with psycopg.connect(self.maintenance_url, autocommit=True) as conn:
            while self.created:
                name = self.created.pop()
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def server_env(databases: Databases, redis_url: str, cache_prefix: str) -> dict[str, str]:
    """The process environment for manage.py and gunicorn: production settings, local services."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        "DATABASE_URL": databases.url("default"),
        "ANALYTICS_DATABASE_URL": databases.url("analytics"),
        "LOGS_DATABASE_URL": databases.url("logs"),
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        # Its own key prefix keeps the throttle counters apart from anything else on this Redis.
        "CACHE_KEY_PREFIX": cache_prefix,
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
        "THROTTLE_LOGIN_RATE": BENCH_THROTTLE_LOGIN_RATE,
        "PYTHONUNBUFFERED": "1",
    }


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [str(PYTHON), "manage.py", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args[:2])} failed:\n{result.stderr.strip()}")
    return result.stdout


def migrate(env: dict[str, str]) -> None:
    for alias in DATABASE_ALIASES:
        manage(env, "migrate", "--noinput", f"--database={alias}")


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


def create_users(env: dict[str, str], count: int) -> tuple[list[BenchUser], dict]:
    password = secrets.token_urlsafe(16)
    users = [BenchUser(f"bench-{i}@example.com", f"bench_{i}", password) for i in range(count)]
    env = {**env, "BENCH_USERS": json.dumps([asdict(user) for user in users])}
    output = manage(env, "shell", "-c", CREATE_USERS)
    return users, json.loads(output.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """gunicorn serving config.wsgi in its own session, so the script alone decides when it stops."""

    def __init__(self, env: dict[str, str], workers: int, log_path: Path):
        self.env = env
        self.workers = workers
        self.log_path = log_path
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [
            str(PYTHON), "-m", "gunicorn", "config.wsgi:application",
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(self.workers),
            "--access-logfile", "/dev/null",
        ]  # fmt: skip
        with self.log_path.open("wb") as log_file:
            self.process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env=self.env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_healthy(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                status, _ = http_call("127.0.0.1", self.port, Request("GET", "/health/"), timeout=2)
            except OSError:
                status = None
            if status == 200:
                return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn not healthy after {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # graceful: each worker finishes its current request
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # the master and its workers
            self.process.wait()

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def delete_redis_keys(redis_url: str, prefix: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


# --- Load generation ------------------------------------------------------------------------------------
def http_call(host: str, port: int, request: Request, timeout: float) -> tuple[int, bytes]:
    """One request on a new connection (gunicorn's sync workers close the connection after each)."""
    body = json.dumps(request.body).encode() if request.body is not None else None
    headers = {"Host": HOST_HEADER, "Connection": "close"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(request.method, request.path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status: str  # the HTTP status, or the exception class for a request that got no response
    latency: float  # seconds from the scheduled send time to the end of the response
    start_lag: float  # seconds between the scheduled send time and the actual send
    finished_at: float


class LoadGenerator:
    """Open loop: request i is due at t0 + i / rate whatever happened to the earlier ones.

    Latency counts from the due time, not from when a thread got round to sending, so a
    saturated client or server shows up as latency instead of silently lowering the load
    (no coordinated omission).
    """

    def __init__(self, scenario: Scenario, port: int, timeout: float):
        self.scenario = scenario
        self.port = port
        self.timeout = timeout

    def fire(self, index: int, due: float) -> Outcome:
        started = time.perf_counter()
        try:
            status, body = http_call("127.0.0.1", self.port, self.scenario.request(index), self.timeout)
        except (OSError, http.client.HTTPException) as exc:
            ok, label = False, type(exc).__name__
        else:
            ok, label = self.scenario.is_success(status, body), str(status)
        finished = time.perf_counter()
        return Outcome(ok, label, finished - due, started - due, finished)

    def warm_up(self, count: int) -> list[Outcome]:
        """Concurrent, so that every gunicorn worker opens its connections before the timed run."""
        if count <= 0:
            return []
        with concurrent.futures.ThreadPoolExecutor(max_workers=count) as pool:
            now = time.perf_counter()
            return list(pool.map(lambda i: self.fire(i, now), range(count)))

    def run(self, rate: float, duration: float) -> tuple[float, list[Outcome]]:
        total = max(1, round(rate * duration))
        # Enough threads for every request that can be in flight before timing out.
        threads = math.ceil(rate * self.timeout) + 8
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=threads, thread_name_prefix="bench")
        futures = []
        try:
            t0 = time.perf_counter()
            for index in range(total):
                due = t0 + index / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                futures.append(pool.submit(self.fire, index, due))
            return t0, [future.result() for future in futures]
        finally:
            pool.shutdown(wait=False, cancel_futures=True)


# --- Report ---------------------------------------------------------------------------------------------
def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class Results:
    sent: int
    successes: int
    errors: dict[str, int]
    elapsed_s: float
    throughput_rps: float
    success_throughput_rps: float
    latency_ms: dict[str, float] = field(default_factory=dict)
    max_start_lag_ms: float = 0.0


def summarize(t0: float, duration: float, outcomes: list[Outcome]) -> Results:
    # The run lasts the sending window, or until the last response if the server fell behind.
    elapsed = max(duration, max(o.finished_at for o in outcomes) - t0)
    successes = [o for o in outcomes if o.ok]
    errors = Counter(o.status for o in outcomes if not o.ok)
    latencies = sorted(o.latency * 1000 for o in successes)
    latency_ms = {}
    if latencies:
        latency_ms = {f"p{p}": round(percentile(latencies, p), 1) for p in (50, 95, 99)}
        latency_ms["max"] = round(latencies[-1], 1)
    return Results(
        sent=len(outcomes),
        successes=len(successes),
        errors=dict(sorted(errors.items())),
        elapsed_s=round(elapsed, 2),
        throughput_rps=round(len(outcomes) / elapsed, 2),
        success_throughput_rps=round(len(successes) / elapsed, 2),
        latency_ms=latency_ms,
        max_start_lag_ms=round(max(o.start_lag for o in outcomes) * 1000, 1),
    )


def git_revision() -> str:
    """The commit measured, flagged when tracked files have local changes."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit} + local changes" if dirty else commit


def describe(args: argparse.Namespace, hasher: dict) -> dict:
    return {
        "git": git_revision(),
        "scenario": args.scenario,
        "rate_rps": args.rate,
        "duration_s": args.duration,
        "gunicorn_workers": args.workers,
        "users": args.users,
        "warmup_requests": args.warmup,
        "request_timeout_s": args.timeout,
        "settings": "config.settings.prod",
        "throttle_login_rate": f"{BENCH_THROTTLE_LOGIN_RATE} (raised for the benchmark; default 30/minute)",
        "password_hasher": hasher,
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def print_report(config: dict, results: Results) -> None:
    rows = [("Configuration", None)]
    for key, value in config.items():
        if isinstance(value, dict):
            value = " ".join(f"{k}={v}" for k, v in value.items())
        rows.append((key, value))
    errors = ", ".join(f"{status}: {count}" for status, count in results.errors.items()) or "none"
    latency = "  ".join(f"{name} {value}" for name, value in results.latency_ms.items()) or "-"
    rows += [
        ("Results", None),
        ("requests sent", results.sent),
        ("successes (200)", results.successes),
        ("errors", errors),
        ("elapsed", f"{results.elapsed_s} s"),
        ("throughput (req/s)", f"{results.throughput_rps} completed, {results.success_throughput_rps} ok"),
        ("latency ms (successes)", latency),
        ("max client start lag", f"{results.max_start_lag_ms} ms (near 0 unless the client fell behind)"),
    ]
    for label, value in rows:
        print(label if value is None else f"  {label:<24} {value}")


# --- Main -----------------------------------------------------------------------------------------------
def raise_system_exit(signum, frame) -> None:
    log("terminated; cleaning up")
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, raise_system_exit)  # `kill` cleans up too, like Ctrl-C
    prefix = f"bench_{os.getpid()}"
    databases = Databases(args.postgres_url, prefix)
    env = server_env(databases, args.redis_url, cache_prefix=prefix)

    with tempfile.TemporaryDirectory(prefix=f"{prefix}_") as tmp, ExitStack() as cleanup:
        cleanup.callback(delete_redis_keys, args.redis_url, prefix)
        cleanup.callback(databases.drop)
        log(f"creating databases {', '.join(databases.names.values())}")
        databases.create()
        log("migrating")
        migrate(env)
        log(f"creating {args.users} users")
        users, hasher = create_users(env, args.users)

        server = Gunicorn(env, args.workers, Path(tmp) / "gunicorn.log")
        cleanup.callback(server.stop)
        log(f"starting gunicorn with {args.workers} workers on 127.0.0.1:{server.port}")
        server.start()
        server.wait_healthy()

        generator = LoadGenerator(SCENARIOS[args.scenario](users), server.port, args.timeout)
        warm = generator.warm_up(args.warmup)
        if not all(o.ok for o in warm):
            raise RuntimeError(f"warm-up failed: {[o.status for o in warm]}\n{server.log_tail()}")
        log(f"sending {args.rate:g} req/s for {args.duration:g} s")
        t0, outcomes = generator.run(args.rate, args.duration)
        log("cleaning up")

    config = describe(args, hasher)
    results = summarize(t0, args.duration, outcomes)
    print_report(config, results)
    if args.json:
        args.json.write_text(json.dumps({"config": config, "results": asdict(results)}, indent=2) + "\n")
        log(f"wrote {args.json}")
    return 0 if results.successes == results.sent else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log("interrupted; cleaned up")
        sys.exit(130)
    except (RuntimeError, psycopg.OperationalError) as exc:
        log(f"failed: {exc}")
        sys.exit(2)
