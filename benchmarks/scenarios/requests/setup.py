"""Set-up: seeding the users, signing in, the request types of each side, and checking that the
floor and the template answer what the API does."""

import json
import secrets
from dataclasses import dataclass

from benchmarks.loadgen import Request
from benchmarks.scenarios.requests.common import DEEP_OFFSET, DEEP_PAGE, SIDES
from benchmarks.stack import Gunicorn, Stack, http_call
from benchmarks.template import TemplateApp

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
