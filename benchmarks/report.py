"""Printing and saving results: labelled rows, plain-text tables, JSON."""

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.options import log


def now_utc() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def machine() -> dict:
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def print_rows(rows: list[tuple[str, object]]) -> None:
    """A heading for each (label, None), an indented `label  value` line for the others."""
    for label, value in rows:
        if value is None:
            print(label)
            continue
        if isinstance(value, dict):
            value = " ".join(f"{k}={v}" for k, v in value.items())
        print(f"  {label:<24} {value}")


def ms(latency: dict, *keys: str) -> str:
    """Chosen percentiles of a latency summary, `p50 / p99`, with "-" where there is none."""
    return " / ".join(f"{latency[k]:.1f}" if k in latency else "-" for k in keys)


def table(headers: list[str], rows: list[list[object]], indent: str = "  ") -> str:
    """Left-aligned first column, right-aligned others."""
    cells = [headers] + [["-" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for row in cells:
        parts = [row[0].ljust(widths[0])] + [v.rjust(w) for v, w in zip(row[1:], widths[1:], strict=True)]
        lines.append(indent + "  ".join(parts).rstrip())
    return "\n".join(lines)


CPU_GROUPS = ("load_generator", "gunicorn", "postgres", "redis", "other", "idle")
CPU_HEADERS = ["run", "load gen %", "gunicorn %", "postgres %", "redis %", "other %", "idle %"]


def print_cpu_table(
    runs: list[tuple[str, dict]], per_request: tuple[str, ...], cores: int, during: str = "the closed loops"
) -> None:
    """The CPU of each run (`(label, summary)`, closed loops unless `during` says otherwise), by
    process group, and the CPU milliseconds per request of the groups in `per_request`."""
    print(f"\nCPU during {during}, % of one core ({cores} cores = {cores * 100}%), and per request")
    rows = []
    for label, closed in runs:
        cpu, rps = closed["cpu_percent"], closed["throughput_rps"]
        per_ms = (f"{10 * cpu[group] / rps:.2f}" if rps else None for group in per_request)
        rows.append([label, *(cpu[group] for group in CPU_GROUPS), *per_ms])
    names = [f"{group.replace('_generator', ' gen')} ms/req" for group in per_request]
    print(table([*CPU_HEADERS, *names], rows))


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    log(f"wrote {path}")
