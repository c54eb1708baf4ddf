"""The full-stack FastAPI template's backend (FastAPI + SQLModel) as a third side of `requests`.

ours/floor says what our API costs on top of a bare Django view; ours/template says how it
compares with a widely copied FastAPI API answering the same four reads (list page 1, a deep page,
a detail, `me`) on the same machine, the same PostgreSQL and in the same run, so that the noise of
this VM hits both alike. The template is a separate checkout with its own virtualenv, prepared by
hand (benchmarks/README.md); nothing of it is copied into this repository.

`TemplateCheckout` is that checkout. `TemplateApp` is its part of one run: a database of its own
(`<prefix>_template`), its alembic migrations, its first superuser, the seeded users, its uvicorn
server; a context manager that stops the server and drops the database on exit, including on
Ctrl-C and errors, like `Stack`.

The template's code runs unchanged. Its processes run in an empty directory of the harness's own,
because its settings read `../.env` relative to the working directory: in a clone that is the
template's development `.env` (ENVIRONMENT=local, POSTGRES_PASSWORD=changethis, ...), which would
override whatever the harness leaves unset. The template then sees the harness's variables only.
"""

import json
import os
import re
import secrets
import subprocess
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import sql

from benchmarks.loadgen import Request
from benchmarks.options import log
from benchmarks.probes import children, cmdline
from benchmarks.stack import Databases, Server, http_call

API = "/api/v1"
PAGE_SIZE = 20  # our API's page size: the template's `limit` is set to it
ALIAS = "template"  # the database is <prefix>_template
CREATED_AT_INDEX = "bench_ix_user_created_at"
FRONTEND_HOST = "http://localhost:5173"  # the template's default; it only feeds the CORS origins
# Named in the report: the framework, the ORM and driver, the server and its C parts, the hasher.
PACKAGES = (
    "fastapi",
    "starlette",
    "pydantic",
    "sqlmodel",
    "sqlalchemy",
    "psycopg",
    "uvicorn",
    "uvloop",
    "httptools",
    "pwdlib",
    "argon2-cffi",
)
# Settings of app/core/config.py the harness decides; the same names inherited from the caller's
# environment are dropped first (SENTRY_DSN and SMTP_HOST stay unset: no error reporting, no mail).
SETTINGS = (
    "ENVIRONMENT",
    "PROJECT_NAME",
    "SECRET_KEY",
    "FRONTEND_HOST",
    "BACKEND_CORS_ORIGINS",
    "POSTGRES_SERVER",
    "POSTGRES_PORT",
    "POSTGRES_USER",
    "POSTGRES_PASSWORD",
    "POSTGRES_DB",
    "FIRST_SUPERUSER",
    "FIRST_SUPERUSER_PASSWORD",
    "SENTRY_DSN",
    "SMTP_HOST",
)

# alembic.ini's script_location is relative to the working directory, which is not backend/.
MIGRATE = """
import os, sys
from alembic import command
from alembic.config import Config
root = sys.argv[1]
config = Config(os.path.join(root, "alembic.ini"))
location = config.get_main_option("script_location")
config.set_main_option("script_location", os.path.join(root, location))
command.upgrade(config, "head")
"""

# The template's own first-superuser step (what app/initial_data.py runs: a real hash of
# FIRST_SUPERUSER_PASSWORD), then one hash from its hasher for every seeded user: 10,000 Argon2
# hashes would take minutes.
SUPERUSER_AND_HASH = """
import json, os
from sqlmodel import Session
from app.core.db import engine, init_db
from app.core.security import get_password_hash, password_hash
with Session(engine) as session:
    init_db(session)
hasher = getattr(password_hash, "current_hasher", None) or password_hash.hashers[0]
print(json.dumps({
    "hash": get_password_hash(os.environ["BENCH_SEEDED_PASSWORD"]),
    "hasher": f"{type(hasher).__module__}.{type(hasher).__qualname__}",
}))
"""

VERSIONS = """
import json, platform, sys
from importlib.metadata import PackageNotFoundError, version
found = {"python": platform.python_version()}
for name in sys.argv[1:]:
    try:
        found[name] = version(name)
    except PackageNotFoundError:
        found[name] = "not installed"
print(json.dumps(found))
"""

# The same users as ours in kind (the same e-mails and names, one minute apart, oldest first),
# in the template's table; ids are the template's random UUIDs.
SEED = """
INSERT INTO "user" (id, email, is_active, is_superuser, full_name, hashed_password, created_at)
SELECT gen_random_uuid(),
       'user-' || lpad(i::text, greatest(5, length(i::text)), '0') || '@example.com',
       true, false, 'Bench User ' || i, %(hash)s,
       now() - (%(count)s::int - i) * interval '1 minute'
FROM generate_series(0, %(count)s::int - 1) AS i
"""


@dataclass(frozen=True)
class TemplateCheckout:
    """The template's backend/ directory, with its own .venv."""

    root: Path

    @property
    def python(self) -> Path:
        return self.root / ".venv" / "bin" / "python"

    def check(self) -> None:
        for name in ("app/main.py", "app/core/config.py", "alembic.ini"):
            if not (self.root / name).is_file():
                raise RuntimeError(f"{self.root} has no {name}: not the FastAPI template's backend/")
        if not self.python.is_file():
            raise RuntimeError(f"{self.python} is missing: create the template's virtualenv first")

    def revision(self) -> str:
        """The tag or commit, when the checkout is a git clone."""
        result = subprocess.run(
            ["git", "-C", str(self.root), "describe", "--tags", "--always", "--dirty"],
            capture_output=True,
            text=True,
        )
        return result.stdout.strip() if result.returncode == 0 else "unknown (not a git checkout)"

    def versions(self) -> dict[str, str]:
        result = subprocess.run(
            [str(self.python), "-c", VERSIONS, *PACKAGES], capture_output=True, text=True, check=True
        )
        return json.loads(result.stdout)


class Uvicorn(Server):
    """uvicorn serving app.main:app with N worker processes, as the template's `fastapi run
    --workers N` does, minus the access log (gunicorn's goes to /dev/null too)."""

    name = "uvicorn"
    health_path = f"{API}/utils/health-check/"

    def __init__(self, checkout: TemplateCheckout, work_dir: Path, env: dict[str, str], *, workers: int):
        super().__init__(env, work_dir / "uvicorn.log", workers=workers)
        self.checkout = checkout
        self.work_dir = work_dir

    def command(self) -> list[str]:
        return [
            str(self.checkout.python), "-m", "uvicorn", "app.main:app",
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--workers", str(self.workers),
            "--no-access-log",
        ]  # fmt: skip

    def cwd(self) -> Path:
        return self.work_dir

    def worker_pids(self) -> list[int]:
        """The spawned workers; not multiprocessing's resource tracker, the master's other child.
        With one worker uvicorn serves from the master itself."""
        if self.workers == 1:
            return [self.pid]
        return [pid for pid in children(self.pid) if "multiprocessing.spawn" in cmdline(pid)]

    def all_workers_up(self) -> bool:
        # The workers share the master's socket: one answered health check does not show that the
        # others have imported the app. Each logs this line once it has.
        started = self.log_path.read_text(errors="replace").count("Application startup complete")
        return started >= self.workers and len(self.worker_pids()) >= self.workers


@dataclass
class TemplateSeed:
    ids: list[str]  # the seeded users, oldest first
    superuser_id: str
    hasher: str


def _hash_parameters(hashed: str) -> str:
    """`argon2id m=65536,t=3,p=4` from a PHC string, or the scheme alone (bcrypt)."""
    match = re.match(r"\$(argon2\w*)\$v=\d+\$([^$]+)\$", hashed)
    return f"{match[1]} {match[2]}" if match else hashed.split("$")[1]


class TemplateApp:
    """The template's database, schema, users and server for one run.

    with TemplateApp(checkout, postgres_url, stack.prefix, stack.tmp / "template") as template:
        seed = template.set_up(users=10_000)
        server = template.start_server(workers=2)
        token = template.sign_in()
    """

    def __init__(
        self, checkout: TemplateCheckout, postgres_url: str, prefix: str, work_dir: Path, *, add_index: bool
    ):
        self.checkout = checkout
        self.databases = Databases(postgres_url, prefix, aliases=(ALIAS,))
        self.work_dir = work_dir
        self.add_index = add_index
        self.secret_key = secrets.token_urlsafe(32)
        self.superuser = {"email": "bench-admin@example.com", "password": secrets.token_urlsafe(16)}
        self.server: Uvicorn | None = None
        self._cleanup = ExitStack()

    def __enter__(self) -> "TemplateApp":
        self.checkout.check()
        self.work_dir.mkdir()
        self._cleanup.callback(self.databases.drop)
        return self

    def __exit__(self, *exc_info) -> None:
        self._cleanup.close()

    @property
    def database(self) -> str:
        return self.databases.names[ALIAS]

    def env(self) -> dict[str, str]:
        """What app/core/config.py reads, production-like: ENVIRONMENT=production (the private
        user-creation route is off and default secrets are refused), random secrets."""
        url = urlsplit(self.databases.maintenance_url)
        settings = {
            "ENVIRONMENT": "production",
            "PROJECT_NAME": "bench",
            "SECRET_KEY": self.secret_key,
            "FRONTEND_HOST": FRONTEND_HOST,
            "BACKEND_CORS_ORIGINS": FRONTEND_HOST,
            "POSTGRES_SERVER": url.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(url.password or ""),
            "POSTGRES_DB": self.database,
            "FIRST_SUPERUSER": self.superuser["email"],
            "FIRST_SUPERUSER_PASSWORD": self.superuser["password"],
        }
        inherited = {name: value for name, value in os.environ.items() if name not in SETTINGS}
        return {
            **inherited,
            # The settings ignore empty values (env_ignore_empty): an empty password stays unset.
            **{name: value for name, value in settings.items() if value},
            "PYTHONPATH": str(self.checkout.root),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
        }

    def run_python(self, *args: str, env: dict[str, str] | None = None) -> str:
        result = subprocess.run(
            [str(self.checkout.python), *args],
            cwd=self.work_dir,
            env=env or self.env(),
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            what = f"{args[0]} {args[1][:40].strip()!r}"
            raise RuntimeError(f"template: {what} failed:\n{result.stderr.strip()}")
        return result.stdout

    def set_up(self, users: int) -> TemplateSeed:
        log(f"template: creating database {self.database}")
        self.databases.create()
        log("template: alembic upgrade head")
        self.run_python("-c", MIGRATE, str(self.checkout.root))
        log("template: its first superuser (app.core.db.init_db) and one hash from its password hasher")
        env = {**self.env(), "BENCH_SEEDED_PASSWORD": self.superuser["password"] + "-seeded"}
        made = json.loads(self.run_python("-c", SUPERUSER_AND_HASH, env=env).strip().splitlines()[-1])
        log(f"template: seeding {users} users (one INSERT ... generate_series, one shared password hash)")
        with psycopg.connect(self.databases.url(ALIAS), autocommit=True) as conn:
            conn.execute(SEED, {"hash": made["hash"], "count": users})
            if self.add_index:
                log(f"template: adding {CREATED_AT_INDEX} on user.created_at (--template-index)")
                conn.execute(
                    sql.SQL('CREATE INDEX {} ON "user" (created_at)').format(sql.Identifier(CREATED_AT_INDEX))
                )
            log(f"template: VACUUM (ANALYZE) on {self.database}")
            conn.execute("VACUUM (ANALYZE)")
            rows = conn.execute('SELECT id FROM "user" WHERE NOT is_superuser ORDER BY created_at')
            ids = [str(pk) for (pk,) in rows]
            (superuser_id,) = conn.execute(
                'SELECT id FROM "user" WHERE email = %s AND is_superuser', (self.superuser["email"],)
            ).fetchone()
        hasher = f"{made['hasher']} {_hash_parameters(made['hash'])}"
        return TemplateSeed(ids=ids, superuser_id=str(superuser_id), hasher=hasher)

    def start_server(self, workers: int) -> Uvicorn:
        server = Uvicorn(self.checkout, self.work_dir, self.env(), workers=workers)
        self._cleanup.callback(server.stop)
        log(f"template: starting uvicorn ({workers} workers, app.main:app) on 127.0.0.1:{server.port}")
        server.start()
        server.wait_healthy(timeout=60)
        self.server = server
        return server

    def sign_in(self) -> str:
        """The superuser's bearer token, from the template's own OAuth2 password login."""
        form = {"username": self.superuser["email"], "password": self.superuser["password"]}
        status, body = http_call(self.server.port, "POST", f"{API}/login/access-token", form=form)
        if status != 200:
            raise RuntimeError(f"template login answered {status}: {body[:300]!r}\n{self.server.log_tail()}")
        return json.loads(body)["access_token"]

    def requests(self, token: str, deep_offset: int, ids: list[str]) -> dict[str, list[Request]]:
        """The template's request for each of ours; `ids` in the order the details rotate over."""
        auth = (("Authorization", f"Bearer {token}"),)

        def get(path: str, kind: str) -> Request:
            return Request("GET", f"{API}{path}", headers=auth, kind=kind)

        return {
            "list1": [get(f"/users/?skip=0&limit={PAGE_SIZE}", "list1")],
            "deep": [get(f"/users/?skip={deep_offset}&limit={PAGE_SIZE}", "deep")],
            "detail": [get(f"/users/{pk}", "detail") for pk in ids],
            "me": [get("/users/me", "me")],
        }

    def check(self, requests: dict[str, list[Request]], data: TemplateSeed, deep_offset: int) -> list[str]:
        """Each type answers 200 with what it should (the count, a full page, the right user), or
        its figures would measure an error page."""
        total = len(data.ids) + 1  # and the superuser
        expected_rows = {"list1": min(PAGE_SIZE, total), "deep": min(PAGE_SIZE, max(0, total - deep_offset))}
        for name, batch in requests.items():
            request = batch[0]
            status, body = http_call(self.server.port, "GET", request.path, headers=dict(request.headers))
            if status != 200:
                message = f"template {request.path} answered {status}: {body[:300]!r}"
                raise RuntimeError(f"{message}\n{self.server.log_tail()}")
            answer = json.loads(body)
            if name in expected_rows:
                good = answer.get("count") == total and len(answer.get("data", [])) == expected_rows[name]
            elif name == "detail":
                good = answer.get("id") == request.path.rsplit("/", 1)[1]
            else:
                good = answer.get("id") == data.superuser_id
            if not good:
                raise RuntimeError(f"template {request.path} answered an unexpected body: {body[:300]!r}")
        return list(requests)

    def describe(self, data: TemplateSeed, *, workers: int, keep_alive: bool) -> dict:
        versions = self.checkout.versions()
        order = (
            f"created_at DESC, with an index the harness added ({CREATED_AT_INDEX}, --template-index)"
            if self.add_index
            else "created_at DESC, no index on created_at: as shipped (each list sorts every row)"
        )
        return {
            "template": str(self.checkout.root),
            "template_revision": self.checkout.revision(),
            "template_python": versions.pop("python"),
            "template_packages": " ".join(f"{name}={version}" for name, version in versions.items()),
            "template_server": f"uvicorn app.main:app, {workers} workers, no access log",
            "template_environment": "ENVIRONMENT=production",
            "template_connections": "kept alive (uvicorn allows it)"
            if keep_alive
            else "closed after every response (Connection: close, --template-close)",
            "template_users": len(data.ids) + 1,
            "template_list_order": order,
            "template_password_hasher": data.hasher,
        }
