"""Measuring one stream of requests, run after run: the part the comparing scenarios share.

A *series* is every run of one stream (one request type, one side, one loop) over the rounds.
Before each run `settle` waits for the machine to go quiet; `measure_closed` and `measure_open`
run the stream with the CPU meter around it and summarize it; `pooled_closed` and `pooled_open`
turn a series into the figures a report prints: the mean throughput over the rounds (their
spread is the run's noise) and percentiles over every round's requests together. `busy_runs`
names the runs during which processes outside the benchmark took a noticeable share of the CPU.
"""

import statistics
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from benchmarks.loadgen import LoadGenerator, MakeRequest, Outcome, Run
from benchmarks.options import log
from benchmarks.probes import CpuMeter, CpuUse, wait_until_quiet
from benchmarks.stats import latency_ms, summarize, summarize_closed

BUSY_THRESHOLD = 10.0  # % of one core used by processes outside the benchmark
CPU_GROUPS = tuple(CpuUse.__dataclass_fields__)


def ok_200(status: int, body: bytes) -> bool:
    return status == 200


def settle(wait: float) -> None:
    """Let whatever else runs on the machine finish first, if it does so within `wait` seconds."""
    if wait > 0:
        other = wait_until_quiet(wait, BUSY_THRESHOLD)
        if other >= BUSY_THRESHOLD:
            log(f"other processes still use {other:.0f}% of a core after {wait:g} s; measuring anyway")


def measure_closed(
    generator: LoadGenerator, meter: CpuMeter, make: MakeRequest, clients: int, duration: float
) -> tuple[dict, Run]:
    meter.start()
    run = generator.closed_loop(make, ok_200, clients, duration=duration)
    cpu = meter.stop()
    return {**asdict(summarize_closed(run)), "cpu_percent": asdict(cpu)}, run


def measure_open(
    generator: LoadGenerator, meter: CpuMeter, make: MakeRequest, rate: float, duration: float
) -> tuple[dict, Run]:
    meter.start()
    run = generator.open_loop(make, ok_200, rate, duration)
    cpu = meter.stop()
    return {**asdict(summarize(run, duration)), "cpu_percent": asdict(cpu)}, run


@dataclass
class Series:
    """Every run of one stream in one loop: each run's summary, and all their outcomes pooled."""

    runs: list[dict] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)

    def add(self, summary: dict, run: Run) -> None:
        self.runs.append(summary)
        self.outcomes += run.outcomes


def pooled_closed(series: Series) -> dict:
    """Throughput: the mean over rounds; latency: percentiles over every round's requests."""
    rates = [r["throughput_rps"] for r in series.runs]
    return {
        "throughput_rps": round(statistics.fmean(rates), 1),
        "throughput_rps_rounds": rates,
        "latency_ms": latency_ms(series.outcomes),
        "requests": len(series.outcomes),
        "errors": sum(not o.ok for o in series.outcomes),
        "cpu_percent": {
            group: round(statistics.fmean(r["cpu_percent"][group] for r in series.runs), 1)
            for group in CPU_GROUPS
        },
    }


def pooled_open(series: Series) -> dict:
    return {
        "throughput_rps": round(statistics.fmean(r["throughput_rps"] for r in series.runs), 2),
        "latency_ms": latency_ms(series.outcomes),
        "requests": len(series.outcomes),
        "errors": sum(not o.ok for o in series.outcomes),
        "max_start_lag_ms": max(r["max_start_lag_ms"] for r in series.runs),
    }


def busy_runs(labelled: Iterable[tuple[str, dict]]) -> list[str]:
    """`label: N%` for each (label, run summary) during which other processes used the CPU."""
    return [
        f"{label}: {run['cpu_percent']['other']:.0f}%"
        for label, run in labelled
        if run["cpu_percent"]["other"] >= BUSY_THRESHOLD
    ]
