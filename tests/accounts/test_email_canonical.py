"""One canonical form of an email address, applied in Python before every write and lookup."""

import pytest

from apps.accounts.models import User
from tests.conftest import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db(databases="__all__")

REGISTER = "/api/v1/auth/register/"
LOGIN = "/api/v1/auth/login/"


def register(api, email, username):
    return api().post(REGISTER, {"email": email, "username": username, "password": DEFAULT_PASSWORD})


def login(api, email):
    return api().post(LOGIN, {"email": email, "password": DEFAULT_PASSWORD})


@pytest.mark.parametrize(
    ("spelling", "same_as"),
    [
        ("\u212aate@example.com", "kate@example.com"),  # KELVIN SIGN
        ("kate@\uff45xample.com", "kate@example.com"),  # FULLWIDTH LATIN SMALL LETTER E
        ("KATE@EXAMPLE.COM", "kate@example.com"),
    ],
)
def test_spellings_of_one_address_are_one_account(api, make_user, spelling, same_as):
    make_user(email=same_as)
    response = register(api, spelling, "someone-else")
    assert response.status_code == 400
    assert list(response.json()["field_errors"]) == ["email"], "an email clash, not a username clash"
    assert login(api, spelling).status_code == 200


@pytest.mark.parametrize(
    ("address", "look_alike"),
    [
        ("\u0130nfo@example.com", "info@example.com"),  # LATIN CAPITAL LETTER I WITH DOT ABOVE
        ("adm\u0131n@example.com", "admin@example.com"),  # LATIN SMALL LETTER DOTLESS I
    ],
)
def test_a_look_alike_address_is_its_own_account_and_signs_in_as_itself(api, make_user, address, look_alike):
    target = make_user(email=look_alike)
    created = register(api, address, "lookalike")
    assert created.status_code == 201, created.content
    mine = User.objects.get(pk=created.json()["id"])
    assert mine.pk != target.pk
    access = login(api, address).json()["access"]
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert client.get("/api/v1/users/me/").json()["id"] == mine.pk
    assert register(api, address.upper(), "lookalike2").status_code == 400, "and it is unique itself"


def test_every_way_in_stores_the_canonical_form(make_user):
    assert make_user(email="  Grace@Example.COM ").email == "grace@example.com"
    assert (
        User.objects.create_superuser("\u212aEN@EXAMPLE.COM", "ken", DEFAULT_PASSWORD).email
        == "ken@example.com"
    )
