"""users/ and users/me/: own profile, and account management for staff with permissions."""

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import User
from apps.logs.models import AuditLog
from tests.conftest import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db(databases="__all__")

ME = "/api/v1/users/me/"


class TestMe:
    def test_shows_the_own_account_without_secrets(self, api, make_user):
        user = make_user(full_name="Ada Lovelace")
        body = api(user).get(ME).json()
        assert body["email"] == user.email and body["full_name"] == "Ada Lovelace"
        assert not {"password", "is_staff", "is_superuser"} & set(body)

    def test_needs_authentication(self, api):
        assert api().get(ME).status_code == 401
        assert api().patch(ME, {"full_name": "x"}).status_code == 401
        assert api().delete(ME, {"password": "x"}).status_code == 401

    def test_patch_changes_profile_fields_and_is_audited(self, api, make_user):
        user = make_user(full_name="Ada")
        response = api(user).patch(ME, {"full_name": "Ada King", "username": "countess"})
        assert response.status_code == 200
        assert response.json()["full_name"] == "Ada King"
        user.refresh_from_db()
        assert user.username == "countess"
        entry = AuditLog.objects.get(action="user.profile_update")
        assert entry.changes["full_name"] == ["Ada", "Ada King"]

    def test_patch_refuses_privileged_fields_and_the_email_by_name(self, api, make_user):
        user = make_user(full_name="Me")
        refused = {
            "email": "new@example.com",
            "is_staff": True,
            "is_superuser": True,
            "is_active": False,
            "email_verified_at": "2020-01-01T00:00:00Z",
            "groups": [1],
        }
        response = api(user).patch(ME, {**refused, "full_name": "Changed"})
        assert response.status_code == 400
        assert set(response.json()["field_errors"]) == set(refused)
        user.refresh_from_db()
        assert user.email != "new@example.com"
        assert (
            not user.is_staff and not user.is_superuser and user.is_active and user.email_verified_at is None
        )
        assert user.full_name == "Me"

    def test_patch_validates(self, api, make_user):
        make_user(username="taken")
        user = make_user()
        response = api(user).patch(ME, {"username": "TAKEN", "phone": "call me maybe"})
        assert response.status_code == 400
        assert set(response.json()["field_errors"]) == {"username", "phone"}

    def test_delete_with_the_password_deactivates_and_revokes_tokens(
        self, api, make_user, sign_in, token_answers
    ):
        user = make_user()
        tokens = sign_in(user)
        assert api(user).delete(ME, {"password": DEFAULT_PASSWORD}).status_code == 204
        user.refresh_from_db()
        assert not user.is_active
        assert token_answers(tokens) == {"access": 401, "refresh": 401}
        assert api(user).get(ME).status_code == 401
        assert AuditLog.objects.filter(action="user.deactivate", actor_id=user.pk).exists()

    def test_delete_with_a_wrong_password_changes_nothing(self, api, make_user):
        user = make_user()
        response = api(user).delete(ME, {"password": "wrong"})
        assert response.status_code == 400
        assert "password" in response.json()["field_errors"]
        user.refresh_from_db()
        assert user.is_active


class TestUserList:
    url = "/api/v1/users/"

    def test_needs_authentication(self, api):
        assert api().get(self.url).status_code == 401

    def test_needs_the_view_user_permission(self, api, make_user):
        assert api(make_user()).get(self.url).status_code == 403

    def test_lists_searches_filters_and_orders(self, api, make_user):
        staff = make_user("accounts.view_user", email="staff@example.com", full_name="Staff")
        make_user(email="grace@example.com", full_name="Grace Hopper")
        make_user(email="alan@example.com", full_name="Alan Turing", is_active=False)
        client = api(staff)

        body = client.get(self.url).json()
        assert body["count"] == 3
        assert [u["email"] for u in client.get(self.url, {"search": "hopper"}).json()["results"]] == [
            "grace@example.com"
        ]
        assert [u["email"] for u in client.get(self.url, {"is_active": "false"}).json()["results"]] == [
            "alan@example.com"
        ]
        ordered = client.get(self.url, {"ordering": "-email"}).json()["results"]
        assert [u["email"] for u in ordered] == ["staff@example.com", "grace@example.com", "alan@example.com"]

    def test_invalid_filters_are_400(self, api, make_user):
        staff = make_user("accounts.view_user")
        assert api(staff).get(self.url, {"is_active": "maybe"}).status_code == 400

    def test_the_number_of_queries_does_not_grow_with_the_page(self, api, make_user, count_queries):
        staff = make_user("accounts.view_user")
        for _ in range(30):
            make_user()
        client = api(staff)
        small = count_queries(lambda: client.get(self.url, {"page_size": 1}))
        large = count_queries(lambda: client.get(self.url, {"page_size": 30}))
        assert small == large <= 5  # token user, count, page, savepoint pair; permissions are cached


@pytest.mark.parametrize("path", ["", "{pk}/"])
def test_list_and_detail_read_no_password_hash_and_answer_what_users_me_does(path, api, make_user):
    """They read rows of the shown columns (no model instance per row); `users/me/` shows its User
    instance: the same representation either way."""
    staff = make_user("accounts.view_user")
    staff.phone = "+447911123456"
    staff.save(update_fields=["phone"])
    client = api(staff)
    with CaptureQueriesContext(connections["default"]) as context:
        body = client.get("/api/v1/users/" + path.format(pk=staff.pk), {"search": staff.email}).json()
    # Read now: the next request's request_started signal empties the connection's query log. The
    # last read of the table is the answer's (the first, authentication's, needs the hash).
    answer_read = [q["sql"] for q in context.captured_queries if '"accounts_user"."email"' in q["sql"]][-1]
    shown = body["results"][0] if not path else body
    assert shown == client.get("/api/v1/users/me/").json()
    assert shown["phone"] == "+447911123456"
    assert '"accounts_user"."password"' not in answer_read


class TestUserDetail:
    def url(self, user):
        return f"/api/v1/users/{user.pk}/"

    def test_retrieve_needs_view_user(self, api, make_user):
        other = make_user()
        assert api().get(self.url(other)).status_code == 401
        assert api(make_user()).get(self.url(other)).status_code == 403
        assert api(make_user("accounts.view_user")).get(self.url(other)).json()["id"] == other.pk

    def test_an_unknown_user_is_404(self, api, make_user):
        response = api(make_user("accounts.view_user")).get("/api/v1/users/999999/")
        assert response.status_code == 404

    def test_patch_needs_change_user_and_is_audited(self, api, make_user):
        other = make_user(full_name="Before")
        assert (
            api(make_user("accounts.view_user")).patch(self.url(other), {"full_name": "x"}).status_code == 403
        )
        editor = make_user("accounts.change_user")
        response = api(editor).patch(self.url(other), {"full_name": "After", "is_staff": True})
        assert response.status_code == 400
        assert list(response.json()["field_errors"]) == ["is_staff"]
        response = api(editor).patch(self.url(other), {"full_name": "After"})
        assert response.status_code == 200
        other.refresh_from_db()
        assert other.full_name == "After" and not other.is_staff
        entry = AuditLog.objects.get(action="user.update")
        assert (entry.actor_id, entry.changes) == (editor.pk, {"full_name": ["Before", "After"]})

    def test_staff_deactivating_through_patch_revokes_tokens(self, api, make_user, sign_in, token_answers):
        other = make_user()
        tokens = sign_in(other)
        response = api(make_user("accounts.change_user")).patch(self.url(other), {"is_active": False})
        assert response.status_code == 200
        assert token_answers(tokens) == {"access": 401, "refresh": 401}

    def test_patch_validates(self, api, make_user):
        make_user(username="taken")
        other = make_user()
        response = api(make_user("accounts.change_user")).patch(self.url(other), {"username": "Taken"})
        assert response.status_code == 400
        assert "username" in response.json()["field_errors"]

    def test_put_is_not_offered(self, api, make_user):
        other = make_user()
        assert api(make_user("accounts.change_user")).put(self.url(other), {}).status_code == 405

    def test_delete_deactivates_and_revokes(self, api, make_user, sign_in, token_answers):
        other = make_user()
        tokens = sign_in(other)
        assert api(make_user("accounts.view_user")).delete(self.url(other)).status_code == 403
        deleter = make_user("accounts.delete_user")
        assert api(deleter).delete(self.url(other)).status_code == 204
        other.refresh_from_db()
        assert not other.is_active and User.objects.filter(pk=other.pk).exists()
        assert token_answers(tokens) == {"access": 401, "refresh": 401}
        assert AuditLog.objects.filter(action="user.deactivate", actor_id=deleter.pk).exists()

    def test_deleting_yourself_is_400(self, api, make_user):
        deleter = make_user("accounts.delete_user")
        response = api(deleter).delete(self.url(deleter))
        assert response.status_code == 400
        deleter.refresh_from_db()
        assert deleter.is_active

    def test_superusers_pass_every_check(self, api, make_user):
        root = make_user(is_superuser=True)
        other = make_user()
        assert api(root).get(self.url(other)).status_code == 200


def test_filters_shape_lists_only_a_detail_answers_its_object_whatever_the_query(api, make_user):
    other = make_user(full_name="Grace Hopper")
    staff = make_user("accounts.view_user")
    response = api(staff).get(f"/api/v1/users/{other.pk}/", {"search": "nobody", "is_active": "2"})
    assert response.status_code == 200
    assert response.json()["id"] == other.pk


def test_an_account_is_shown_with_exactly_its_declared_fields(api, make_user):
    from apps.accounts.serializers import UserSerializer

    user = make_user()
    body = api(user).get("/api/v1/users/me/").json()
    assert list(body) == list(UserSerializer().fields)
    assert body["date_joined"].endswith("Z") and body["last_login"] is None


def test_a_list_shows_phone_numbers_as_the_detail_does(api, make_user):
    viewer = make_user("accounts.view_user")
    person = make_user(phone="+447911123456")
    client = api(viewer)
    listed = {row["id"]: row for row in client.get("/api/v1/users/").json()["results"]}
    detail = client.get(f"/api/v1/users/{person.pk}/").json()
    assert listed[person.pk] == detail
    assert detail["phone"] == "+447911123456"
    assert listed[viewer.pk]["phone"] == ""
