"""What the runs collect: every run of a request type on one side, and the workers' memory."""

from dataclasses import dataclass, field

from benchmarks.measure import Series
from benchmarks.options import log
from benchmarks.probes import rss_kib
from benchmarks.stack import Gunicorn


@dataclass
class Measured:
    """Every run of one request type on one side (ours or floor)."""

    closed: Series = field(default_factory=Series)
    open: Series = field(default_factory=Series)


class MemoryLog:
    """VmRSS of every gunicorn worker at named moments."""

    def __init__(self, server: Gunicorn):
        self.server = server
        self.readings: list[dict] = []

    def read(self, label: str, requests_so_far: int) -> None:
        workers = {pid: rss_kib(pid) for pid in self.server.worker_pids()}
        self.readings.append({"label": label, "requests": requests_so_far, "rss_kib": workers})
        total = sum(v or 0 for v in workers.values())
        log(f"worker memory {label}: {total / 1024:.1f} MiB in {len(workers)} workers")
