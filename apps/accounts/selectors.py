from django.db.models import QuerySet

from apps.accounts.models import User

# What UserSerializer shows: a list need not load password hashes and the rest.
USER_FIELDS = (
    "id",
    "email",
    "username",
    "full_name",
    "phone",
    "is_active",
    "email_verified_at",
    "phone_verified_at",
    "date_joined",
    "last_login",
)


def user_list() -> QuerySet[User]:
    """Every account, for staff with `accounts.view_user`; filters and ordering are the caller's."""
    return User.objects.order_by("id")


def user_list_for_display() -> QuerySet[User]:
    """`user_list()` with only the columns an account's representation shows."""
    return user_list().only(*USER_FIELDS)
