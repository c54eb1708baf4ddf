import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone
from model_bakery import baker
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken

from apps.accounts.models import AuthSession, User
from apps.logs.models import AuditLog
from tests.conftest import DEFAULT_PASSWORD

# Admin writes are audited in the logs database.
pytestmark = pytest.mark.django_db(databases="__all__")

CHANGELIST = "/admin/accounts/user/"


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def listed(response) -> set[str]:
    assert response.status_code == 200
    return {user.email for user in response.context["cl"].result_list}


def run_action(admin_client, action: str, users) -> object:
    return admin_client.post(
        CHANGELIST, {"action": action, "_selected_action": [user.pk for user in users]}, follow=True
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def change_form_data(user: User, **overrides) -> dict:
    """What the admin change form posts for `user`, with some fields changed."""
    data = {
        "email": user.email,
        "username": user.username,
        "full_name": user.full_name,
        "phone": user.phone,
        "is_active": user.is_active,
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
        "groups": [group.pk for group in user.groups.all()],
        "user_permissions": [permission.pk for permission in user.user_permissions.all()],
    }
    data.update(overrides)
    # An unticked checkbox is simply not posted.
    return {key: value for key, value in data.items() if value is not False}


# --- Existing behaviour -----------------------------------------------------------------------------------
def test_staff_can_list_and_search_users(admin_client, user):
    response = admin_client.get("/admin/accounts/user/?q=ada")
    assert response.status_code == 200
    assert b"ada@example.com" in response.content


def test_staff_can_open_a_user(admin_client, user):
    assert admin_client.get(f"/admin/accounts/user/{user.pk}/change/").status_code == 200


def test_staff_can_add_a_user_with_a_password(admin_client):
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "email": "new@example.com",
            "username": "newbie",
            "full_name": "New Person",
            "usable_password": "true",
            "password1": "a-very-long-password-1",
            "password2": "a-very-long-password-1",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(email="new@example.com").check_password("a-very-long-password-1")


# --- Filters --------------------------------------------------------------------------------------------
@pytest.fixture
def verified_and_unverified(db):
    verified = baker.make(
        User, email="verified@example.com", username="verified", email_verified_at=timezone.now()
    )
    unverified = baker.make(
        User, email="unverified@example.com", username="unverified", email_verified_at=None
    )
    return verified, unverified


def test_email_verified_yes_lists_only_verified_users(admin_client, verified_and_unverified):
    emails = listed(admin_client.get(CHANGELIST, {"email_verified": "yes"}))
    assert "verified@example.com" in emails
    assert "unverified@example.com" not in emails


def test_email_verified_no_lists_only_unverified_users(admin_client, verified_and_unverified):
    emails = listed(admin_client.get(CHANGELIST, {"email_verified": "no"}))
    assert "unverified@example.com" in emails
    assert "verified@example.com" not in emails


def test_active_filter_lists_only_matching_users(admin_client, user):
    baker.make(User, email="gone@example.com", username="gone", is_active=False)
    assert listed(admin_client.get(CHANGELIST, {"is_active__exact": "0"})) == {"gone@example.com"}
    assert "gone@example.com" not in listed(admin_client.get(CHANGELIST, {"is_active__exact": "1"}))


def test_staff_filter_lists_only_staff(admin_client, user, superuser):
    assert listed(admin_client.get(CHANGELIST, {"is_staff__exact": "1"})) == {superuser.email}
    assert listed(admin_client.get(CHANGELIST, {"is_staff__exact": "0"})) == {user.email}


def test_groups_filter_is_labelled_role_and_lists_members(admin_client, user, superuser):
    editors = Group.objects.create(name="Editors")
    user.groups.add(editors)
    response = admin_client.get(CHANGELIST, {"groups__id__exact": editors.pk})
    assert listed(response) == {user.email}
    titles = {str(spec.title) for spec in response.context["cl"].filter_specs}
    assert "role" in titles
    assert "email verified" in titles


# --- Actions --------------------------------------------------------------------------------------------
def test_activate_action_activates_the_selected_users_and_audits_each(admin_client, superuser):
    first, second = baker.make(User, is_active=False, _quantity=2)
    response = run_action(admin_client, "activate_users", [first, second])
    assert response.status_code == 200
    assert "Activated 2 users." in messages_of(response)
    assert User.objects.filter(pk__in=[first.pk, second.pk], is_active=True).count() == 2
    entries = AuditLog.objects.filter(action="user.activate")
    assert {entry.target_id for entry in entries} == {str(first.pk), str(second.pk)}
    for entry in entries:
        assert entry.actor_id == superuser.pk
        assert entry.changes == {"is_active": [False, True]}


def test_activate_action_leaves_already_active_users_alone(admin_client, user):
    response = run_action(admin_client, "activate_users", [user])
    assert "Activated 0 users." in messages_of(response)
    assert not AuditLog.objects.filter(action="user.activate").exists()


def test_deactivate_action_deactivates_others_revokes_their_tokens_and_audits(
    admin_client, superuser, user, sign_in, token_answers
):
    tokens = sign_in(user)
    response = run_action(admin_client, "deactivate_users", [user])
    assert response.status_code == 200
    assert "Deactivated 1 user." in messages_of(response)
    user.refresh_from_db()
    assert not user.is_active
    assert token_answers(tokens) == {"access": 401, "refresh": 401}
    entry = AuditLog.objects.get(action="user.deactivate")
    assert entry.actor_id == superuser.pk
    assert entry.target_id == str(user.pk)
    assert entry.changes == {"is_active": [True, False]}


def test_deactivate_action_skips_the_acting_admin_with_a_warning(admin_client, superuser, user):
    RefreshToken.for_user(superuser)
    response = run_action(admin_client, "deactivate_users", [superuser, user])
    texts = messages_of(response)
    assert "You cannot deactivate your own account; it was skipped." in texts
    assert "Deactivated 1 user." in texts
    warnings = [m for m in response.context["messages"] if m.level_tag == "warning"]
    assert len(warnings) == 1
    superuser.refresh_from_db()
    user.refresh_from_db()
    assert superuser.is_active
    assert not user.is_active
    assert not BlacklistedToken.objects.filter(token__user=superuser).exists()
    assert list(AuditLog.objects.filter(action="user.deactivate").values_list("target_id", flat=True)) == [
        str(user.pk)
    ]


def test_password_reset_action_emails_each_selected_active_user_a_reset_link(
    admin_client, user, django_capture_on_commit_callbacks
):
    other = baker.make(User, email="grace@example.com", username="grace")
    inactive = baker.make(User, email="gone@example.com", username="gone", is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(admin_client, "send_password_reset", [user, other, inactive])
    assert "Sent a password reset email to 2 users." in messages_of(response)
    assert "Skipped 1 inactive user." in messages_of(response)
    assert len(mail.outbox) == 2
    assert sorted(message.to[0] for message in mail.outbox) == ["ada@example.com", "grace@example.com"]
    for message in mail.outbox:
        assert len(message.to) == 1
        assert "reset-password?uid=" in message.body


def test_password_reset_action_for_one_user_sends_one_email(
    admin_client, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run_action(admin_client, "send_password_reset", [user])
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ada@example.com"]
    assert "reset-password?uid=" in mail.outbox[0].body


# --- Audited edits --------------------------------------------------------------------------------------
def test_editing_a_user_in_the_admin_is_audited(admin_client, superuser, user):
    url = f"/admin/accounts/user/{user.pk}/change/"
    response = admin_client.post(url, change_form_data(user, full_name="Augusta Ada King"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    assert user.full_name == "Augusta Ada King"
    entry = AuditLog.objects.get(action="user.update")
    assert entry.actor_id == superuser.pk
    assert entry.target_type == "accounts.user"
    assert entry.target_id == str(user.pk)
    assert entry.changes == {"full_name": ["Ada Lovelace", "Augusta Ada King"]}


def test_group_changes_are_audited_as_ids(admin_client, user):
    editors = Group.objects.create(name="Editors")
    url = f"/admin/accounts/user/{user.pk}/change/"
    response = admin_client.post(url, change_form_data(user, groups=[editors.pk]))
    assert response.status_code == 302
    assert AuditLog.objects.get(action="user.update").changes == {"groups": [[], [editors.pk]]}


def test_saving_an_unchanged_user_writes_no_audit_entry(admin_client, user):
    response = admin_client.post(f"/admin/accounts/user/{user.pk}/change/", change_form_data(user))
    assert response.status_code == 302
    assert not AuditLog.objects.filter(action="user.update").exists()


def test_switching_a_user_off_in_the_admin_revokes_their_tokens(admin_client, user, sign_in, token_answers):
    tokens = sign_in(user)
    response = admin_client.post(
        f"/admin/accounts/user/{user.pk}/change/", change_form_data(user, is_active=False)
    )
    assert response.status_code == 302
    user.is_active = True
    user.save(update_fields=["is_active"])
    assert token_answers(tokens) == {"access": 401, "refresh": 401}, "reactivation revives no token"
    assert AuditLog.objects.get(action="user.update").changes == {"is_active": [True, False]}


def test_adding_a_user_in_the_admin_is_audited_without_changes(admin_client, superuser):
    admin_client.post(
        "/admin/accounts/user/add/",
        {
            "email": "new@example.com",
            "username": "newbie",
            "usable_password": "true",
            "password1": "a-very-long-password-1",
            "password2": "a-very-long-password-1",
        },
    )
    created = User.objects.get(email="new@example.com")
    entry = AuditLog.objects.get(action="user.create")
    assert entry.actor_id == superuser.pk
    assert entry.target_id == str(created.pk)
    assert entry.changes == {}
    assert "a-very-long-password-1" not in str(AuditLog.objects.values_list("changes", flat=True))


def test_changing_the_phone_in_the_admin_unverifies_it_on_the_record(admin_client, make_user):
    verified_at = timezone.now()
    user = make_user(phone="+447700900123", phone_verified_at=verified_at)
    response = admin_client.post(
        f"/admin/accounts/user/{user.pk}/change/", change_form_data(user, phone="+447911123456")
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    assert (str(user.phone), user.phone_verified_at) == ("+447911123456", None)
    assert AuditLog.objects.get(action="user.update").changes == {
        "phone": ["+447700900123", "+447911123456"],
        "phone_verified_at": [verified_at.isoformat(), None],
    }


def test_access_given_in_the_admin_is_saved_and_audited(admin_client, user):
    editors = Group.objects.create(name="Editors")
    response = admin_client.post(
        f"/admin/accounts/user/{user.pk}/change/", change_form_data(user, is_staff=True, groups=[editors.pk])
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_staff
    assert list(user.groups.all()) == [editors]
    assert AuditLog.objects.get(action="user.update").changes == {
        "is_staff": [False, True],
        "groups": [[], [editors.pk]],
    }


def test_a_user_added_without_a_password_has_none_to_sign_in_with(admin_client):
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {"email": "new@example.com", "username": "newbie", "usable_password": "false"},
    )
    assert response.status_code == 302
    assert not User.objects.get(email="new@example.com").has_usable_password()
    assert AuditLog.objects.filter(action="user.create").count() == 1


def test_a_refusal_of_the_service_is_shown_and_nothing_is_saved(admin_client, user, monkeypatch):
    from apps.accounts import services
    from apps.core.errors import InvalidInput

    def refuse(**kwargs):
        raise InvalidInput({"email": ["A user with that email already exists."]})

    monkeypatch.setattr(services, "user_admin_update", refuse)
    url = f"/admin/accounts/user/{user.pk}/change/"
    response = admin_client.post(url, change_form_data(user, full_name="Someone Else"), follow=True)
    assert response.redirect_chain == [(url, 302)]
    assert "A user with that email already exists." in messages_of(response)
    user.refresh_from_db()
    assert user.full_name == "Ada Lovelace"
    assert not AuditLog.objects.filter(action="user.update").exists()


def test_only_a_superuser_deactivates_a_superuser(client, make_user, superuser):
    staff = make_user("accounts.view_user", "accounts.change_user", is_staff=True)
    client.force_login(staff)
    response = run_action(client, "deactivate_users", [superuser])
    assert "Only a superuser can change a superuser's account." in messages_of(response)
    superuser.refresh_from_db()
    assert superuser.is_active
    assert not AuditLog.objects.filter(action="user.deactivate").exists()


def test_the_admin_login_form_is_throttled_like_the_api(client, make_user):
    make_user(email="root@example.com", is_staff=True, is_superuser=True)
    form = {"username": "root@example.com", "password": "wrong"}
    statuses = [client.post("/admin/login/", form).status_code for _ in range(5)]
    assert statuses == [200] * 5  # the form again, with an error
    blocked = client.post("/admin/login/", {**form, "password": DEFAULT_PASSWORD})
    assert blocked.status_code == 429
    assert int(blocked["Retry-After"]) > 0
    assert b"Too many sign-in attempts" in blocked.content


def test_a_successful_admin_login_does_not_count_as_a_failure(client, make_user):
    make_user(email="root@example.com", is_staff=True, is_superuser=True)
    for _ in range(6):
        client.logout()
        response = client.post(
            "/admin/login/", {"username": "root@example.com", "password": DEFAULT_PASSWORD}
        )
        assert response.status_code == 302


def test_staff_see_sessions_and_can_end_them(admin_client, superuser, user, sign_in, token_answers):
    tokens = sign_in(user)
    session = AuthSession.objects.get(user=user)
    listing = admin_client.get("/admin/accounts/authsession/?state=live")
    assert listing.status_code == 200 and user.email in listing.content.decode()
    response = admin_client.post(
        "/admin/accounts/authsession/",
        {"action": "end_sessions", "_selected_action": [str(session.pk)]},
        follow=True,
    )
    assert "Ended 1 session." in messages_of(response)
    assert token_answers(tokens) == {"access": 401, "refresh": 401}
    assert AuditLog.objects.filter(action="user.session_revoke", actor_id=superuser.pk).exists()
    assert admin_client.get(f"/admin/accounts/authsession/{session.pk}/change/").status_code == 200


@pytest.mark.parametrize("spelling", ["ADA@example.com", "ada@\uff45xample.com"])
def test_the_admin_refuses_another_spelling_of_a_taken_address(admin_client, user, spelling):
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "email": spelling,
            "username": "other",
            "usable_password": "true",
            "password1": "a-very-long-password-1",
            "password2": "a-very-long-password-1",
        },
    )
    assert response.status_code == 200, "the form comes back with an error, no 500"
    assert "already exists" in response.content.decode()
    assert User.objects.count() == 2  # ada and the admin
