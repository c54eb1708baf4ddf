from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.analytics.models import LoginEvent


def login_stats(*, days: int, user_id: int | None = None) -> dict[str, Any]:
    """Login attempts over the last `days` days (today included): totals and one row per day.

    Two queries on the analytics database whatever the range; days without attempts are
    filled in with zeros so a chart needs no gaps logic.
    """
    today = timezone.localdate()
    first_day = today - timedelta(days=days - 1)
    # A password step that went on to a second factor is not a sign-in of its own: the second
    # factor's event says how that sign-in ended.
    events = LoginEvent.objects.filter(
        created_at__gte=timezone.make_aware(datetime.combine(first_day, time.min)), mfa_pending=False
    )
    if user_id is not None:
        events = events.filter(user_id=user_id)
    counts = {"total": Count("id"), "successful": Count("id", filter=Q(success=True))}

    totals = events.aggregate(**counts)
    # Rows of values("day") annotated with the counts (the stubs type such a row by "day" alone).
    by_day: dict[date, Mapping[str, Any]] = {
        row["day"]: row
        for row in events.annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(**counts)
        .order_by("day")
    }

    def row(day: date, total: int, successful: int) -> dict[str, Any]:
        return {"date": day, "total": total, "successful": successful, "failed": total - successful}

    series = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        found = by_day.get(day)
        series.append(row(day, found["total"], found["successful"]) if found else row(day, 0, 0))
    total, successful = totals["total"], totals["successful"]
    return {
        "days": days,
        "user": user_id,
        "total": total,
        "successful": successful,
        "failed": total - successful,
        "success_rate": round(successful / total, 4) if total else None,
        "series": series,
    }


def login_events_of_user(*, user_id: int, email: str) -> QuerySet[LoginEvent]:
    """The sign-in attempts of the account or naming its address, newest first."""
    return LoginEvent.objects.filter(Q(user_id=user_id) | Q(email=email)).order_by("-created_at", "-id")
