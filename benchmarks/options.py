"""Command-line pieces every scenario shares."""

import argparse
import math
import os
import sys
from pathlib import Path

# The checkout this harness lives in; `--repo` can point it at another one (an older commit).
HARNESS_ROOT = Path(__file__).resolve().parent.parent


def positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {value}")
    return number


def non_negative_int(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {value}")
    return number


def positive_float(value: str) -> float:
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {value}")
    return number


def rate_list(value: str) -> list[float]:
    """`50,150`: one or more rates, sorted, each positive."""
    rates = sorted({positive_float(part) for part in value.split(",") if part.strip()})
    if not rates:
        raise argparse.ArgumentTypeError(f"one or more rates, comma-separated: {value}")
    return rates


def name_list(choices):
    """A parser of `a,b`: names from `choices`, in the order `choices` gives them."""

    def parse(value: str) -> list[str]:
        names = [name.strip() for name in value.split(",") if name.strip()]
        unknown = sorted(set(names) - set(choices))
        if unknown or not names:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(choices)}: {value}")
        return [name for name in choices if name in names]

    return parse


def add_stack_options(parser: argparse.ArgumentParser) -> None:
    """Where the stack runs and what it measures: the options of every scenario."""
    add = parser.add_argument
    add("--timeout", type=positive_float, default=30.0, help="per-request timeout in seconds (%(default)s)")
    add(
        "--repo",
        type=Path,
        default=HARNESS_ROOT,
        help="the checkout to measure, with its own .venv (default: this one, %(default)s)",
    )
    add(
        "--postgres-url",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="database to create and drop the benchmark databases from; env BENCH_POSTGRES_URL (%(default)s)",
    )
    add(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
        help="Redis for the cache, throttles and broker; env BENCH_REDIS_URL (%(default)s)",
    )
    add("--json", type=Path, metavar="PATH", help="also write the configuration and results to PATH")


def log(message: str) -> None:
    """Progress goes to stderr; the report alone goes to stdout."""
    print(f"bench: {message}", file=sys.stderr, flush=True)
