"""The throwaway production-like stack every scenario runs against.

Three fresh PostgreSQL databases, migrated with the production settings; gunicorn serving the
checkout under test in its own session; its own key prefix on the local Redis. `Stack` creates
them in order and removes everything it created on exit, including on Ctrl-C and errors.
"""

import hashlib
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import psycopg
import redis
from psycopg import sql

from benchmarks.options import HARNESS_ROOT, log
from benchmarks.probes import children

DATABASE_ALIASES = ("default", "analytics", "logs")
HOST_HEADER = "localhost"
PROD_SETTINGS = "config.settings.prod"
# config.settings.prod plus the floor's URLs; see benchmarks/server/.
BENCH_SETTINGS = "benchmarks.server.settings"


@dataclass(frozen=True)
class Target:
    """The checkout under test: its code, its manage.py and its virtualenv."""

    root: Path

    @property
    def python(self) -> Path:
        return self.root / ".venv" / "bin" / "python"

    def check(self) -> None:
        if not (self.root / "manage.py").is_file():
            raise RuntimeError(f"{self.root} has no manage.py: not a checkout of this project")
        if not self.python.is_file():
            raise RuntimeError(f"{self.python} is missing: create that checkout's virtualenv first")

    def revision(self) -> str:
        """The commit measured, flagged (with a digest of the diff) when tracked code outside
        benchmarks/ has local changes."""

        def git(*args: str) -> str:
            return subprocess.run(
                ["git", *args], cwd=self.root, capture_output=True, text=True, check=True
            ).stdout.strip()

        try:
            commit = git("rev-parse", "--short", "HEAD")
            # The harness (benchmarks/), the docs and the Makefile are not what is measured.
            code = ["--", ".", ":(exclude)benchmarks", ":(exclude)*.md", ":(exclude)Makefile"]
            dirty = git("status", "--porcelain", "--untracked-files=no", *code)
            if dirty:
                # Which local changes: a working tree under active change differs from run to run.
                state = git("diff", "HEAD", *code) + git("status", "--porcelain", *code)
                digest = hashlib.sha256(state.encode()).hexdigest()[:10]
        except (OSError, subprocess.CalledProcessError):
            return "unknown"
        return f"{commit} + local changes (diff {digest})" if dirty else commit


class Databases:
    """Fresh PostgreSQL databases <prefix>_<alias>; drops only the ones it created."""

    def __init__(self, maintenance_url: str, prefix: str, aliases: tuple[str, ...] = DATABASE_ALIASES):
        self.maintenance_url = maintenance_url
        self.names = {alias: f"{prefix}_{alias}" for alias in aliases}
        self.created: list[str] = []

    def url(self, alias: str) -> str:
        return urlsplit(self.maintenance_url)._replace(path="/" + self.names[alias]).geturl()

    def create(self) -> None:
        with psycopg.connect(self.maintenance_url, autocommit=True) as conn:
            for name in self.names.values():
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                self.created.append(name)

    def vacuum_analyze(self, alias: str) -> None:
        """What autovacuum would have done to freshly loaded tables: planner statistics, and a
        visibility map so that COUNT(*) can use an index-only scan."""
        with psycopg.connect(self.url(alias), autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE)")

    def drop(self) -> None:
        if not self.created:
            return
        with psycopg.connect(self.maintenance_url, autocommit=True) as conn:
            while self.created:
                name = self.created.pop()
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_call(
    port: int,
    method: str,
    path: str,
    body: dict | None = None,
    headers: dict | None = None,
    timeout=10.0,
    *,
    form: dict | None = None,
) -> tuple[int, bytes]:
    """One request on a new connection, synchronously: for set-up steps, not for load. `body` goes
    as JSON, `form` as an urlencoded form (an OAuth2 password login)."""
    all_headers = {"Host": HOST_HEADER, "Connection": "close", **(headers or {})}
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        all_headers["Content-Type"] = "application/json"
    elif form is not None:
        payload = urlencode(form).encode()
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=payload, headers=all_headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Server:
    """A server under test in its own session, so the harness alone decides when it stops; its
    output goes to a log file. Subclasses say how to start it (`command`, `cwd`) and where it
    answers a health check."""

    name = "server"
    health_path = "/health/"

    def __init__(self, env: dict[str, str], log_path: Path, *, workers: int):
        self.env = env
        self.log_path = log_path
        self.workers = workers
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def command(self) -> list[str]:
        raise NotImplementedError

    def cwd(self) -> Path:
        raise NotImplementedError

    def start(self) -> None:
        with self.log_path.open("wb") as log_file:
            self.process = subprocess.Popen(
                self.command(),
                cwd=self.cwd(),
                env=self.env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def all_workers_up(self) -> bool:
        return len(self.worker_pids()) >= self.workers

    def wait_healthy(self, timeout: float = 30.0) -> None:
        """Until the health check answers and every worker is up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                status, _ = http_call(self.port, "GET", self.health_path, timeout=2)
            except OSError:
                status = None
            if status == 200 and self.all_workers_up():
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not healthy after {timeout:.0f} s:\n{self.log_tail()}")

    def wait_drained(self, timeout: float = 300.0) -> float:
        """Until the workers have worked off every queued request; the seconds that took.

        After an open-loop run the server could not keep up with, gunicorn's listen backlog still
        holds requests whose clients gave up: sync workers serve them all, first come first served,
        before anything new. A health check answered at once means the queue is empty; measuring
        the next run before that would charge it with the last run's backlog.
        """
        started = time.monotonic()
        deadline = started + timeout
        while True:
            sent = time.monotonic()
            try:
                status, _ = http_call(self.port, "GET", self.health_path, timeout=max(1.0, deadline - sent))
            except OSError:
                status = None
            now = time.monotonic()
            if status == 200 and now - sent < 0.5:
                return now - started
            if now >= deadline:
                raise RuntimeError(f"{self.name} still busy after {timeout:.0f} s:\n{self.log_tail()}")
            time.sleep(0.1)

    def worker_pids(self) -> list[int]:
        """The master's children: its workers."""
        return children(self.pid)

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


class Gunicorn(Server):
    """gunicorn serving config.wsgi of the checkout under test."""

    name = "gunicorn"

    def __init__(
        self,
        target: Target,
        env: dict[str, str],
        log_path: Path,
        *,
        workers: int,
        worker_class: str = "sync",
        threads: int = 1,
    ):
        super().__init__(env, log_path, workers=workers)
        self.target = target
        self.worker_class = worker_class
        self.threads = threads

    def command(self) -> list[str]:
        command = [
            str(self.target.python), "-m", "gunicorn", "config.wsgi:application",
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(self.workers),
            "--worker-class", self.worker_class,
            "--access-logfile", "/dev/null",
        ]  # fmt: skip
        if self.worker_class == "gthread":
            command += ["--threads", str(self.threads)]
        return command

    def cwd(self) -> Path:
        return self.target.root


def delete_redis_keys(redis_url: str, prefix: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


class Stack:
    """One benchmark run's databases, environment and server; a context manager that cleans up.

    with Stack(target, postgres_url, redis_url, extra_env={...}) as stack:
        stack.create_databases()          # create and migrate
        stack.manage("shell", "-c", ...)  # seed
        server = stack.start_server(workers=2)
    """

    def __init__(
        self, target: Target, postgres_url: str, redis_url: str, *, extra_env: dict[str, str] | None = None
    ):
        self.target = target
        self.redis_url = redis_url
        self.prefix = f"bench_{os.getpid()}"
        self.databases = Databases(postgres_url, self.prefix)
        self.extra_env = extra_env or {}
        self.secret_key = secrets.token_urlsafe(50)
        self._cleanup = ExitStack()
        self.tmp: Path | None = None
        self.server: Gunicorn | None = None

    def __enter__(self) -> "Stack":
        self.target.check()
        self.tmp = Path(self._cleanup.enter_context(tempfile.TemporaryDirectory(prefix=f"{self.prefix}_")))
        self._cleanup.callback(delete_redis_keys, self.redis_url, self.prefix)
        self._cleanup.callback(self.databases.drop)
        return self

    def __exit__(self, *exc_info) -> None:
        self._cleanup.close()

    def env(self, settings_module: str = PROD_SETTINGS) -> dict[str, str]:
        """The process environment for manage.py and gunicorn: production settings, local services."""
        # gunicorn imports the benchmark settings from this harness even when it serves another
        # checkout: a directory holding only a link to this package goes on PYTHONPATH. The
        # checkout's own directory comes first on sys.path, so its apps and config are the ones
        # imported; its benchmarks/, if any, has no __init__.py and does not shadow this package.
        pythonpath = self.tmp / "pythonpath"
        if not pythonpath.exists():
            pythonpath.mkdir()
            (pythonpath / "benchmarks").symlink_to(HARNESS_ROOT / "benchmarks", target_is_directory=True)
        return {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(pythonpath), os.environ.get("PYTHONPATH")])),
            "PYTHONDONTWRITEBYTECODE": "1",
            "DJANGO_SETTINGS_MODULE": settings_module,
            "SECRET_KEY": self.secret_key,
            "ALLOWED_HOSTS": "localhost,127.0.0.1",
            "DATABASE_URL": self.databases.url("default"),
            "ANALYTICS_DATABASE_URL": self.databases.url("analytics"),
            "LOGS_DATABASE_URL": self.databases.url("logs"),
            "REDIS_URL": self.redis_url,
            "CELERY_BROKER_URL": self.redis_url,
            # Its own key prefix keeps the throttle counters apart from anything else on this Redis.
            "CACHE_KEY_PREFIX": self.prefix,
            "SECURE_SSL_REDIRECT": "false",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }

    def manage(self, *args: str, env: dict[str, str] | None = None) -> str:
        result = subprocess.run(
            [str(self.target.python), "manage.py", *args],
            cwd=self.target.root,
            env=env or self.env(),
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args[:2])} failed:\n{result.stderr.strip()}")
        return result.stdout

    def create_databases(self) -> None:
        log(f"creating databases {', '.join(self.databases.names.values())}")
        self.databases.create()
        log("migrating")
        env = self.env()
        for alias in DATABASE_ALIASES:
            self.manage("migrate", "--noinput", f"--database={alias}", env=env)

    def start_server(
        self, *, workers: int, worker_class: str = "sync", threads: int = 1, settings_module=PROD_SETTINGS
    ) -> Gunicorn:
        server = Gunicorn(
            self.target,
            self.env(settings_module),
            self.tmp / "gunicorn.log",
            workers=workers,
            worker_class=worker_class,
            threads=threads,
        )
        self._cleanup.callback(server.stop)
        kind = worker_class if worker_class != "gthread" else f"gthread x {threads} threads"
        log(f"starting gunicorn ({workers} {kind} workers, {settings_module}) on 127.0.0.1:{server.port}")
        server.start()
        server.wait_healthy()
        self.server = server
        return server
