"""The goals this work set itself: reported as met or not, they never change the exit status."""

import argparse

from benchmarks.scenarios.bookings import search
from benchmarks.scenarios.bookings.setup import overlap_checks

# The goals this work set itself; reported as met or not, they never change the exit status.
CREATE_P95_GOAL_MS = 50.0
AVAILABILITY_P95_GOAL_MS = 30.0


def evaluate_goals(args: argparse.Namespace, queries: dict, measured: dict | None) -> list[dict]:
    goals = []
    create_sql = queries["create"]["default_sql"]
    checks = overlap_checks(create_sql)
    goals.append(
        {
            "goal": "the exclusion constraint decides the conflict in the INSERT (no overlap query first)",
            "figure": checks,
            "met": checks == 0,
            "note": f"{checks} overlap pre-check queries before the INSERT; "
            f"{queries['create']['total']} queries per booking in all, "
            f"{queries['conflict']['total']} per 409",
        }
    )
    busy, empty = queries["availability busy day"]["total"], queries["availability empty day"]["total"]
    goals.append(
        {
            "goal": "availability: the same number of queries for a busy and an empty day",
            "figure": busy,
            "met": busy == empty,
            "note": f"busy {busy}, empty {empty}",
        }
    )
    goals += search.goals(args, queries, measured)
    if measured is None:
        return goals
    figures = measured["figures"]
    for rate in args.rates:
        p95 = figures[f"create @{rate:g}/s"]["latency_201_ms"].get("p95")
        goals.append(
            {
                "goal": f"create @{rate:g}/s: p95 of the 201s < {CREATE_P95_GOAL_MS:g} ms",
                "figure": p95,
                "met": p95 is not None and p95 < CREATE_P95_GOAL_MS,
            }
        )
    for label in ("availability busy, closed", f"availability busy @{args.availability_rate:g}/s"):
        p95 = figures[label]["latency_ms"].get("p95")
        goals.append(
            {
                "goal": f"{label}: p95 < {AVAILABILITY_P95_GOAL_MS:g} ms",
                "figure": p95,
                "met": p95 is not None and p95 < AVAILABILITY_P95_GOAL_MS,
            }
        )
    return goals
