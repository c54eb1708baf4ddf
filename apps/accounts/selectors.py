from django.db.models import QuerySet

from apps.accounts.models import User


def user_list() -> QuerySet[User]:
    """Every account, for staff with `accounts.view_user`; filters and ordering are the caller's."""
    return User.objects.order_by("id")
