import pytest
from django.db import IntegrityError, transaction

from apps.accounts.models import User

pytestmark = pytest.mark.django_db


def test_create_user_hashes_the_password_and_grants_nothing():
    user = User.objects.create_user("Grace@Example.COM", "grace", "a-long-password-1")
    assert user.email == "grace@example.com"  # one canonical form, see apps.core.normalization
    assert user.check_password("a-long-password-1")
    assert not user.password.startswith("a-long")
    assert not user.is_staff and not user.is_superuser and user.is_active
    assert user.email_verified_at is None


def test_create_superuser_is_staff_and_superuser():
    admin = User.objects.create_superuser("root@example.com", "root", "a-long-password-1")
    assert admin.is_staff and admin.is_superuser


def test_a_superuser_cannot_be_created_without_staff():
    with pytest.raises(ValueError, match="is_staff"):
        User.objects.create_superuser("root@example.com", "root", "pw", is_staff=False)


@pytest.mark.parametrize("field", ["email", "username"])
def test_email_and_username_are_unique_ignoring_case(field):
    User.objects.create_user("ada@example.com", "ada", "pw")
    duplicate = {"email": "other@example.com", "username": "other"}
    duplicate[field] = {"email": "ADA@EXAMPLE.COM", "username": "ADA"}[field]
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(duplicate["email"], duplicate["username"], "pw")


def test_sign_in_lookup_matches_the_email_ignoring_case():
    user = User.objects.create_user("ada@example.com", "ada", "pw")
    assert User.objects.get_by_natural_key("ADA@example.com") == user


def test_full_clean_reports_a_case_insensitive_duplicate_as_a_field_error():
    from django.core.exceptions import ValidationError

    User.objects.create_user("ada@example.com", "ada", "pw")
    with pytest.raises(ValidationError) as error:
        User(email="Ada@Example.com", username="someone", password="x").full_clean()
    assert "A user with that email already exists." in str(error.value)


def test_phone_numbers_are_validated():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        User(email="a@example.com", username="a", password="x", phone="call me").full_clean()
    assert "phone" in error.value.message_dict
