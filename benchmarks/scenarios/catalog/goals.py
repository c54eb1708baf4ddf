"""The goals this work set itself: computed from the measured sizes, reported, never failing the run."""

import argparse
import json
from pathlib import Path

from benchmarks.scenarios.catalog.common import LIST_TYPES, NAME

# The goals this work set itself; the report says whether each is met and never fails for them.
COLD_LIST_GOAL = 0.7  # cold lists: at least this share of the floor's closed-loop throughput
WARM_GOAL = 3.0  # warm lists and details: at least this many times the floor's
SCALING_GOAL = 1.5  # cold list1 p50 at the largest size: at most this many times that at the smallest


def p50_points(sizes: dict, rate: str) -> dict[int, dict[str, float]]:
    """Cold p50 at the open-loop `rate` (service time, not queueing), by size and list type."""
    points = {}
    for size, data in sizes.items():
        types = data.get("types", {})
        figures = {
            name: types[name]["cold"]["ours"]["open"][rate]["latency_ms"].get("p50")
            for name in LIST_TYPES
            if "cold" in types.get(name, {}) and rate in types[name]["cold"]["ours"]["open"]
        }
        if figures:
            points[int(size)] = figures
    return points


def load_earlier(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise RuntimeError(f"--compare-json {path}: {exc}") from exc
    if data.get("config", {}).get("scenario") != NAME:
        raise RuntimeError(f"--compare-json {path}: not a {NAME} run")
    return data


def evaluate_goals(args: argparse.Namespace, sizes: dict, earlier: dict | None) -> list[dict]:
    goals = []
    for size, data in sizes.items():
        for name, modes in data.get("types", {}).items():
            for mode, target in (("cold", COLD_LIST_GOAL), ("warm", WARM_GOAL)):
                if (mode == "cold" and name not in LIST_TYPES) or "ours_over_floor" not in modes.get(
                    mode, {}
                ):
                    continue
                ratio = modes[mode]["ours_over_floor"]
                goals.append(
                    {
                        "goal": f"{name} {mode}, {int(size):,} products: ours/floor req/s >= {target:g}",
                        "figure": ratio,
                        "met": ratio >= target,
                    }
                )
    rate = f"{args.rates[0]:g}"
    points = p50_points(sizes, rate)
    source = dict.fromkeys(points, "this run")
    if earlier is not None:
        earlier_rate = f"{earlier['config']['open_loop_rates'][0]:g}"
        for size, figures in p50_points(earlier.get("sizes", {}), earlier_rate).items():
            if size not in points:
                points[size], source[size] = figures, f"{args.compare_json}, at {earlier_rate} req/s"
    described = f"list1 cold p50 at {rate} req/s, largest size <= {SCALING_GOAL:g}x smallest"
    small, large = (min(points), max(points)) if points else (None, None)
    if (
        small is None
        or small == large
        or points[small].get("list1") is None
        or points[large].get("list1") is None
    ):
        goals.append(
            {
                "goal": described,
                "figure": None,
                "met": None,
                "note": "needs two sizes: --products 10000,1000000, or --compare-json of a run at another",
            }
        )
    else:
        factor = round(points[large]["list1"] / points[small]["list1"], 2)
        goals.append(
            {
                "goal": f"{described} ({large:,} vs {small:,} products)",
                "figure": factor,
                "met": factor <= SCALING_GOAL,
                "note": (
                    f"{points[large]['list1']} ms ({source[large]}) "
                    f"vs {points[small]['list1']} ms ({source[small]})"
                ),
            }
        )
        for name in ("filtered", "search"):
            if points[small].get(name) and points[large].get(name):
                goals.append(
                    {
                        "goal": f"{name} cold p50 at {rate} req/s, {large:,} vs {small:,} products (no goal)",
                        "figure": round(points[large][name] / points[small][name], 2),
                        "met": None,
                        "note": f"{points[large][name]} ms vs {points[small][name]} ms",
                    }
                )
    return goals
