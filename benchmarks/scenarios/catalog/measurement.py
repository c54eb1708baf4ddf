"""Measurement: every request type in every cache mode, ours and floor, in closed and open loop,
round after round."""

import argparse
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from benchmarks.loadgen import LoadGenerator
from benchmarks.measure import (
    Series,
    busy_runs,
    measure_closed,
    measure_open,
    ok_200,
    pooled_closed,
    pooled_open,
    settle,
)
from benchmarks.options import log
from benchmarks.probes import CpuMeter
from benchmarks.scenarios.catalog import data as catalog_data
from benchmarks.scenarios.catalog.common import API, BUSTER, FLOOR, HOSTILE_REQUESTS
from benchmarks.scenarios.catalog.setup import CatalogCache, Stream, check_floor
from benchmarks.stack import BENCH_SETTINGS, Gunicorn, Stack, http_call


@dataclass
class Measured:
    """Every run of one request type, in one cache mode, on one side."""

    closed: Series = field(default_factory=Series)
    open: dict[float, Series] = field(default_factory=dict)


def measure_size(args: argparse.Namespace, stack: Stack, cache: CatalogCache, streams: dict) -> dict:
    server = stack.start_server(
        workers=args.workers,
        worker_class=args.worker_class,
        threads=args.threads,
        settings_module=BENCH_SETTINGS,
    )
    try:
        check_floor(server, streams)
        log(f"the floor answers the same rows and fields as the API for: {', '.join(streams)}")
        log(f"hostile search terms: {', '.join(catalog_data.HOSTILE_SEARCH_TERMS)}, beside a word")
        hostile = probe_hostile_searches(server)
        generator = LoadGenerator(server.port, args.timeout)
        meter = CpuMeter(server.pid, stack.prefix)

        log("warming up (untimed, every request a cache miss)")
        for stream in streams.values():
            for side in ("ours", "floor"):
                warm = generator.closed_loop(
                    stream.maker(side, "cold", "warmup"), ok_200, args.clients, total=10 * args.clients
                )
                failed = [o.status for o in warm.outcomes if not o.ok]
                if failed:
                    raise RuntimeError(
                        f"warm-up of {stream.name} ({side}) failed: {failed[:10]}\n{server.log_tail()}"
                    )
        cache.clear()

        results: dict[str, dict[str, dict[str, Measured]]] = {}
        runs = 0

        def one_run(stream: Stream, mode: str, side: str, rate: float | None, number: int) -> None:
            nonlocal runs
            runs += 1
            make = stream.maker(side, mode, f"r{runs}")
            loop = "closed" if rate is None else f"{rate:g} req/s"
            log(f"round {number}/{args.rounds}: {stream.name} {mode} ({side}), {loop}")
            if side == "ours":
                if mode == "cold":
                    cache.clear()  # keeps Redis small; every cold URL is new anyway
                else:
                    store_warm_set(generator, stream, args.clients, server)
            settle(args.wait_idle)
            before = cache.entries() if side == "ours" else 0
            if rate is None:
                summary, run = measure_closed(generator, meter, make, args.clients, args.duration)
            else:
                summary, run = measure_open(generator, meter, make, rate, args.open_duration)
            if side == "ours":
                summary["cache_entries_written"] = cache.entries() - before
            drained = server.wait_drained()
            if drained > 1:
                summary["backlog_drain_seconds"] = round(drained, 1)
                log(f"the server worked off an overload's backlog for {drained:.0f} s before the next run")
            measured = results.setdefault(stream.name, {}).setdefault(mode, {}).setdefault(side, Measured())
            if rate is None:
                measured.closed.add(summary, run)
            else:
                measured.open.setdefault(rate, Series()).add(summary, run)

        for number in range(1, args.rounds + 1):
            # ours first in rounds 1, 3, ..., the floor first in 2, 4, ...: drift hits both alike
            sides = ("ours", "floor") if number % 2 else ("floor", "ours")
            for stream in streams.values():
                for mode in args.modes:
                    for side in sides:
                        one_run(stream, mode, side, None, number)
                    for rate in args.rates:
                        for side in sides:
                            one_run(stream, mode, side, rate, number)
        cache.clear()
    finally:
        server.stop()
    return {**summarize_size(results), "hostile_search": hostile}


def probe_hostile_searches(server: Gunicorn) -> list[dict]:
    """Each hostile term and the baseline word, one request at a time, every one a cache miss: the
    API's status and latency beside the floor's, which runs the unguarded query."""
    rows = []
    for term in (*catalog_data.HOSTILE_SEARCH_TERMS, catalog_data.HOSTILE_BASELINE_TERM):
        for side in ("ours", "floor"):
            base = API if side == "ours" else FLOOR
            statuses, latencies = [], []
            for n in range(HOSTILE_REQUESTS):
                path = f"{base}?{urlencode({'search': term, BUSTER: f'hostile-{secrets.token_hex(4)}-{n}'})}"
                began = time.perf_counter()
                status, _body = http_call(server.port, "GET", path, timeout=30.0)
                latencies.append((time.perf_counter() - began) * 1000)
                statuses.append(status)
            latencies.sort()
            rows.append(
                {
                    "term": term,
                    "side": side,
                    "statuses": sorted(set(statuses)),
                    "p50_ms": round(latencies[len(latencies) // 2], 1),
                    "max_ms": round(latencies[-1], 1),
                }
            )
    return rows


def store_warm_set(generator: LoadGenerator, stream: Stream, clients: int, server: Gunicorn) -> None:
    """Request every warm URL once, untimed, so that the warm run that follows only hits."""
    store = generator.closed_loop(stream.maker("ours", "warm", ""), ok_200, clients, total=stream.warm_count)
    failed = [o.status for o in store.outcomes if not o.ok]
    if failed:
        raise RuntimeError(
            f"storing the warm set of {stream.name} failed: {failed[:10]}\n{server.log_tail()}"
        )


def summarize_size(results: dict) -> dict:
    types = {}
    for name, modes in results.items():
        types[name] = {}
        for mode, sides in modes.items():
            entry = {}
            for side, measured in sides.items():
                entry[side] = {
                    "closed": pooled_closed(measured.closed),
                    "open": {f"{rate:g}": pooled_open(series) for rate, series in measured.open.items()},
                }
                if side == "ours":
                    all_runs = measured.closed.runs + [r for s in measured.open.values() for r in s.runs]
                    written = sum(r["cache_entries_written"] for r in all_runs)
                    requests = sum(r.get("requests", r.get("sent", 0)) for r in all_runs)
                    entry[side]["cache_misses"] = {"entries_written": written, "requests": requests}
            floor = entry.get("floor", {}).get("closed", {}).get("throughput_rps")
            if floor and "ours" in entry:
                entry["ours_over_floor"] = round(entry["ours"]["closed"]["throughput_rps"] / floor, 3)
            types[name][mode] = entry
    rounds = {
        name: {
            mode: {
                side: {
                    "closed": measured.closed.runs,
                    "open": {f"{rate:g}": series.runs for rate, series in measured.open.items()},
                }
                for side, measured in sides.items()
            }
            for mode, sides in modes.items()
        }
        for name, modes in results.items()
    }
    labelled = []
    for name, modes in rounds.items():
        for mode, sides in modes.items():
            for side, loops in sides.items():
                labelled += [
                    (f"{name} {mode} {side} closed round {n}", r) for n, r in enumerate(loops["closed"], 1)
                ]
                for rate, series in loops["open"].items():
                    labelled += [
                        (f"{name} {mode} {side} {rate} req/s round {n}", r) for n, r in enumerate(series, 1)
                    ]
    return {"types": types, "rounds": rounds, "noisy_runs": busy_runs(labelled)}
