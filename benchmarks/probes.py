"""What the machine did during a measurement, read from /proc (Linux only).

`CpuMeter` splits the CPU time of a measurement between the load generator (this process),
gunicorn (master and workers), PostgreSQL (the backends of the benchmark's databases and the
server's own background processes), Redis and everything else, so that a report can say which
of them used the cores and whether something else was running. `rss_kib` reads a process's
resident memory.
"""

import os
import time
from dataclasses import dataclass

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PROC = "/proc"


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(command name, parent pid, user + system CPU ticks) of a process, or None if it is gone."""
    try:
        with open(f"{PROC}/{pid}/stat", "rb") as file:
            data = file.read()
    except OSError:
        return None
    # The name is in parentheses and may itself contain spaces or parentheses.
    left, right = data.index(b"("), data.rindex(b")")
    fields = data[right + 2 :].split()
    # fields[0] is the state (field 3 of proc(5)); ppid is field 4, utime 14, stime 15.
    return data[left + 1 : right].decode(errors="replace"), int(fields[1]), int(fields[11]) + int(fields[12])


def process_table() -> dict[int, tuple[str, int, int]]:
    table = {}
    for entry in os.listdir(PROC):
        if entry.isdigit() and (stat := _stat(int(entry))) is not None:
            table[int(entry)] = stat
    return table


def children(pid: int) -> list[int]:
    return sorted(child for child, (_, ppid, _) in process_table().items() if ppid == pid)


def machine_ticks() -> dict[str, int]:
    """Busy, steal and total ticks summed over every CPU since boot (the `cpu` line of /proc/stat)."""
    with open(f"{PROC}/stat") as file:
        values = [int(v) for v in file.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (values + [0] * 8)[:8]
    return {
        "busy": user + nice + system + irq + softirq,
        "steal": steal,
        "total": user + nice + system + idle + iowait + irq + softirq + steal,
    }


def rss_kib(pid: int) -> int | None:
    try:
        with open(f"{PROC}/{pid}/status") as file:
            for line in file:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


@dataclass
class CpuUse:
    """CPU used during one measurement, in % of one core (a 2-core machine has 200)."""

    load_generator: float
    gunicorn: float
    postgres: float
    redis: float
    other: float
    steal: float
    idle: float

    def line(self) -> str:
        return (
            f"load generator {self.load_generator:.0f}%, gunicorn {self.gunicorn:.0f}%, "
            f"postgres {self.postgres:.0f}%, redis {self.redis:.0f}%, other {self.other:.0f}%, "
            f"idle {self.idle:.0f}%"
        )


def cmdline(pid: int) -> str:
    """A process's command line, arguments separated by spaces; "" if it is gone."""
    try:
        with open(f"{PROC}/{pid}/cmdline", "rb") as file:
            return file.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def is_our_postgres(pid: int, database_prefix: str | None) -> bool:
    """A PostgreSQL process working for the benchmark: a backend connected to one of its databases
    (its title names the database), or one of the server's background processes (checkpointer,
    WAL writer, ...). A backend of another database (someone's test run) is not."""
    title = cmdline(pid)
    is_backend = "(" in title or "[local]" in title
    return not is_backend or (database_prefix is not None and database_prefix in title)


class CpuMeter:
    """start(), then stop() -> CpuUse. Processes are grouped by what they are at stop() time; the
    CPU of a process that exited in between (a short-lived connection's backend) counts as other."""

    def __init__(self, gunicorn_pid: int | None = None, database_prefix: str | None = None):
        self.gunicorn_pid = gunicorn_pid
        self.database_prefix = database_prefix
        self._start: tuple[float, dict, dict] | None = None

    def start(self) -> None:
        self._start = (time.perf_counter(), machine_ticks(), process_table())

    def stop(self) -> CpuUse:
        end_time, end_machine, end_table = time.perf_counter(), machine_ticks(), process_table()
        start_time, start_machine, start_table = self._start
        seconds = end_time - start_time
        groups = {"load_generator": 0, "gunicorn": 0, "postgres": 0, "redis": 0}
        gunicorn = {self.gunicorn_pid} | {
            pid for pid, (_, ppid, _) in end_table.items() if ppid == self.gunicorn_pid
        }
        for pid, (name, _, ticks) in end_table.items():
            before = start_table.get(pid)
            used = ticks - (before[2] if before and before[0] == name else 0)
            if pid == os.getpid():
                groups["load_generator"] += used
            elif pid in gunicorn:
                groups["gunicorn"] += used
            elif name == "postgres" and is_our_postgres(pid, self.database_prefix):
                groups["postgres"] += used
            elif name.startswith("redis-server"):
                groups["redis"] += used
        busy = end_machine["busy"] - start_machine["busy"]
        steal = end_machine["steal"] - start_machine["steal"]
        idle = end_machine["total"] - start_machine["total"] - busy - steal

        def percent(ticks: int) -> float:
            return round(100 * ticks / CLOCK_TICKS / seconds, 1) if seconds > 0 else 0.0

        return CpuUse(
            **{name: percent(ticks) for name, ticks in groups.items()},
            other=percent(max(0, busy - sum(groups.values()))),
            steal=percent(steal),
            idle=percent(idle),
        )


def wait_until_quiet(max_wait: float, threshold: float = 10.0, sample: float = 0.5) -> float:
    """Wait (up to `max_wait` seconds) until processes outside the benchmark use less than
    `threshold` % of one core over `sample` seconds. Returns that last figure."""
    deadline = time.monotonic() + max_wait
    while True:
        meter = CpuMeter()
        meter.start()
        time.sleep(sample)
        other = meter.stop().other
        if other < threshold or time.monotonic() >= deadline:
            return other
