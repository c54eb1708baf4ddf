"""From outcomes to figures: throughput, errors and nearest-rank latency percentiles."""

import math
from collections import Counter
from dataclasses import dataclass, field

from benchmarks.loadgen import Outcome, Run


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def latency_ms(outcomes: list[Outcome], percentiles=(50, 95, 99)) -> dict[str, float]:
    """Percentiles and maximum of the successful requests' latencies, in ms; {} when none succeeded."""
    latencies = sorted(o.latency * 1000 for o in outcomes if o.ok)
    if not latencies:
        return {}
    summary = {f"p{p}": round(percentile(latencies, p), 1) for p in percentiles}
    summary["max"] = round(latencies[-1], 1)
    return summary


def error_counts(outcomes: list[Outcome]) -> dict[str, int]:
    return dict(sorted(Counter(o.status for o in outcomes if not o.ok).items()))


@dataclass
class Results:
    """An open-loop run: what was sent at the fixed rate, and how it was served."""

    sent: int
    successes: int
    errors: dict[str, int]
    elapsed_s: float
    throughput_rps: float
    success_throughput_rps: float
    latency_ms: dict[str, float] = field(default_factory=dict)
    max_start_lag_ms: float = 0.0
    client_cpu_s: float = 0.0


def summarize(run: Run, duration: float) -> Results:
    """An open-loop run. It lasts the sending window, or until the last response if the server fell
    behind."""
    outcomes = run.outcomes
    elapsed = max(duration, max(o.finished_at for o in outcomes) - run.t0)
    successes = sum(o.ok for o in outcomes)
    return Results(
        sent=len(outcomes),
        successes=successes,
        errors=error_counts(outcomes),
        elapsed_s=round(elapsed, 2),
        throughput_rps=round(len(outcomes) / elapsed, 2),
        success_throughput_rps=round(successes / elapsed, 2),
        latency_ms=latency_ms(outcomes),
        max_start_lag_ms=round(max(o.start_lag for o in outcomes) * 1000, 1),
        client_cpu_s=round(run.client_cpu_s, 2),
    )


@dataclass
class ClosedResults:
    """A closed-loop run: how many requests the clients got through, back to back."""

    requests: int
    successes: int
    errors: dict[str, int]
    elapsed_s: float
    throughput_rps: float  # successful responses per second
    latency_ms: dict[str, float] = field(default_factory=dict)
    client_cpu_s: float = 0.0


def summarize_closed(run: Run) -> ClosedResults:
    """Elapsed runs from the start to the last response (the clients stop sending at the deadline)."""
    outcomes = run.outcomes
    elapsed = max(o.finished_at for o in outcomes) - run.t0 if outcomes else 0.0
    successes = sum(o.ok for o in outcomes)
    return ClosedResults(
        requests=len(outcomes),
        successes=successes,
        errors=error_counts(outcomes),
        elapsed_s=round(elapsed, 2),
        throughput_rps=round(successes / elapsed, 1) if elapsed > 0 else 0.0,
        latency_ms=latency_ms(outcomes),
        client_cpu_s=round(run.client_cpu_s, 2),
    )
