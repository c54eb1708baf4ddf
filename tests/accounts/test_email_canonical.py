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


# --- Invisible characters (apps/core/validators.py) ------------------------------------------------------
INVISIBLE = ["\u200b", "\u00ad", "\u200d", "\ufeff", "\u2060"]


@pytest.mark.parametrize("invisible", INVISIBLE)
def test_an_address_with_an_invisible_character_is_refused_not_a_second_account(api, make_user, invisible):
    make_user(email="alice@example.com")
    for address in (f"alice@example.com{invisible}", f"ali{invisible}ce@example.com"):
        response = register(api, address, "not-alice")
        assert response.status_code == 400, address.encode("unicode_escape")
        assert list(response.json()["field_errors"]) == ["email"]
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value"), [("username", "alice\u3164"), ("full_name", "Alice\u200d\nSmith")]
)
def test_a_name_with_invisible_or_control_characters_is_refused_at_registration(api, field, value):
    data = {"email": "new@example.com", "username": "newcomer", "password": DEFAULT_PASSWORD, field: value}
    response = api().post(REGISTER, data)
    assert response.status_code == 400
    assert list(response.json()["field_errors"]) == [field]
    messages = response.json()["field_errors"][field]
    assert any("U+" in message for message in messages), "the message names what it cannot show"


def test_an_email_change_to_an_invisible_look_alike_is_refused(api, make_user):
    make_user(email="alice@example.com")
    mallory = make_user(email="mallory@example.com")
    response = api(mallory).post(
        "/api/v1/auth/email/change/", {"new_email": "alice@example.com\u200b", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 400
    assert list(response.json()["field_errors"]) == ["new_email"]


@pytest.mark.parametrize(("field", "value"), [("username", "ada\u3164"), ("full_name", "Ada\u202eecalevoL")])
def test_profile_and_staff_edits_refuse_invisible_characters(api, make_user, field, value):
    ada = make_user(email="ada@example.com", username="ada")
    response = api(ada).patch("/api/v1/users/me/", {field: value})
    assert (response.status_code, list(response.json()["field_errors"])) == (400, [field])
    staff = make_user("accounts.change_user", "accounts.view_user", is_staff=True)
    response = api(staff).patch(f"/api/v1/users/{ada.pk}/", {field: value})
    assert (response.status_code, list(response.json()["field_errors"])) == (400, [field])
    ada.refresh_from_db()
    assert getattr(ada, field) != value


def test_the_admin_form_refuses_them_too(make_user):
    from django.core.exceptions import ValidationError

    user = make_user(email="ada@example.com")
    user.full_name = "Ada\x00"
    with pytest.raises(ValidationError) as refused:
        user.full_clean()
    assert list(refused.value.message_dict) == ["full_name"]


def test_the_migration_reports_existing_rows_and_changes_nothing(make_user, capsys):
    import importlib

    from django.apps import apps as registry
    from django.db import connection

    migration = importlib.import_module(
        "apps.accounts.migrations.0008_user_text_without_invisible_characters"
    )
    clean = make_user(email="clean@example.com")
    odd = make_user(email="odd@example.com")
    User.objects.filter(pk=odd.pk).update(email="alice@example.com\u200b", full_name="Al\x07ice")

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection
    migration.report_invisible_characters(registry, editor)
    out = capsys.readouterr().out
    assert f"user {odd.pk} email: U+200B" in out and f"user {odd.pk} full_name: U+0007" in out
    assert f"user {clean.pk} " not in out
    assert "alice@example.com" not in out, "no addresses in the report"
    assert User.objects.get(pk=odd.pk).email == "alice@example.com\u200b"
