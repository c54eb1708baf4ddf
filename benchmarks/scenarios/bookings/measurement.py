"""Measurement: the booking creations handed out in turn, and the rounds of runs, each waiting for
quiet first and for the server to drain after."""

import argparse
import dataclasses
import statistics
from collections import defaultdict
from functools import partial

from benchmarks.loadgen import LoadGenerator, Outcome, Request, Run
from benchmarks.measure import busy_runs, ok_200, settle
from benchmarks.options import log
from benchmarks.probes import CpuMeter
from benchmarks.scenarios.bookings import search
from benchmarks.scenarios.bookings.common import ME
from benchmarks.scenarios.bookings.plan import Plan, Slot
from benchmarks.scenarios.bookings.setup import availability_path, check_plan, sign_in
from benchmarks.stack import BENCH_SETTINGS, Gunicorn, Stack
from benchmarks.stats import error_counts, latency_ms, summarize, summarize_closed


class Bookers:
    """Hands out new bookings: the next free slot (providers in turn) for the next customer in turn
    who is free at that time, and every 1/share-th request a time that is already booked."""

    def __init__(self, plan: Plan, tokens: dict[int, str], collisions: float):
        self.free = list(reversed(plan.free))  # pop() gives the plan's order
        self.taken = plan.taken
        self.customers = list(tokens)
        self.auth = {pk: (("Authorization", f"Bearer {token}"),) for pk, token in tokens.items()}
        self.held = defaultdict(list)  # customer -> [(start, end)] of the bookings made for them
        self.every = round(1 / collisions) if collisions > 0 else 0
        self.turn = 0
        self.collided = 0

    def _customer_free_at(self, slot: Slot) -> int | None:
        for _ in range(len(self.customers)):
            customer = self.customers[self.turn % len(self.customers)]
            self.turn += 1
            if not any(s < slot.end and slot.start < e for s, e in self.held[customer]):
                self.held[customer].append((slot.start, slot.end))
                return customer
        return None  # every bench customer has a booking then: the slot is skipped

    def requests(self, count: int) -> list[Request]:
        out = []
        for index in range(count):
            if self.every and index % self.every == self.every - 1:
                slot = self.taken[self.collided % len(self.taken)]
                self.collided += 1
                customer = self.customers[self.turn % len(self.customers)]
                self.turn += 1
                out.append(
                    Request("POST", "/api/v1/bookings/", slot.body(), self.auth[customer], kind="collide")
                )
                continue
            customer = None
            while customer is None:
                if not self.free:
                    raise RuntimeError(
                        "the plan ran out of free slots: fewer --rates or a shorter --duration"
                    )
                slot = self.free.pop()
                customer = self._customer_free_at(slot)
            out.append(Request("POST", "/api/v1/bookings/", slot.body(), self.auth[customer], kind="create"))
        return out


def expected(outcome: Outcome) -> Outcome:
    """A creation succeeds with a 201, a collision with a 409; anything else is an error, named."""
    want = "201" if outcome.kind == "create" else "409"
    if outcome.status == want:
        return dataclasses.replace(outcome, ok=True)
    return dataclasses.replace(outcome, ok=False, status=f"{outcome.status} to a {outcome.kind}")


def creation_summary(run: Run, duration: float) -> dict:
    outcomes = [expected(o) for o in run.outcomes]
    base = dataclasses.asdict(summarize(Run(run.t0, outcomes, run.client_cpu_s), duration))
    for kind, status in (("create", "201"), ("collide", "409")):
        mine = [o for o in outcomes if o.kind == kind]
        base[f"{status}s"] = sum(o.ok for o in mine)
        base[f"latency_{status}_ms"] = latency_ms(mine)
    base["outcomes"] = outcomes
    return base


class Runner:
    """One gunicorn, one load generator, the CPU meter; every run waits for quiet first and for the
    server to drain after, and is kept with its label."""

    def __init__(self, args: argparse.Namespace, server: Gunicorn, stack: Stack):
        self.args, self.server = args, server
        self.generator = LoadGenerator(server.port, args.timeout)
        self.meter = CpuMeter(server.pid, stack.prefix)
        self.runs: dict[str, list[dict]] = defaultdict(list)  # label -> one summary per round
        self.outcomes: dict[str, list[Outcome]] = defaultdict(list)

    def _measure(self, label: str, number: int, go) -> dict:
        log(f"round {number}/{self.args.rounds}: {label}")
        settle(self.args.wait_idle)
        self.meter.start()
        summary, outcomes = go()
        summary["cpu_percent"] = dataclasses.asdict(self.meter.stop())
        drained = self.server.wait_drained()
        if drained > 1:
            summary["backlog_drain_seconds"] = round(drained, 1)
            log(f"the server worked off an overload's backlog for {drained:.0f} s before the next run")
        self.runs[label].append(summary)
        self.outcomes[label] += outcomes
        return summary

    def open(self, label: str, number: int, requests: list[Request], rate: float, creation: bool = False):
        def go():
            is_success = (lambda status, body: status in (201, 409)) if creation else ok_200
            run = self.generator.open_loop(
                lambda i: requests[i % len(requests)], is_success, rate, self.args.duration
            )
            if creation:
                summary = creation_summary(run, self.args.duration)
                return summary, summary.pop("outcomes")
            return dataclasses.asdict(summarize(run, self.args.duration)), run.outcomes

        return self._measure(label, number, go)

    def closed(self, label: str, number: int, requests: list[Request]):
        def go():
            run = self.generator.closed_loop(
                lambda i: requests[i % len(requests)],
                ok_200,
                self.args.clients,
                duration=self.args.closed_duration,
            )
            return dataclasses.asdict(summarize_closed(run)), run.outcomes

        return self._measure(label, number, go)


def measure(args, stack: Stack, plan: Plan, bench: list[dict], password: str) -> dict:
    server = stack.start_server(workers=args.workers, settings_module=BENCH_SETTINGS)
    try:
        log(f"signing in {len(bench)} bench customers through POST /api/v1/auth/login/")
        tokens = sign_in(server, bench, password)
        checked = check_plan(server, plan, next(iter(tokens.values())))
        log(f"the API's availability agrees with the plan on {checked} busy days")
        auths = [(("Authorization", f"Bearer {t}"),) for t in tokens.values()]
        me = [Request("GET", ME, headers=auth, kind="me") for auth in auths]
        busy = [
            Request("GET", availability_path(p, d), headers=auths[n % len(auths)], kind="busy")
            for n, (p, d, _c) in enumerate(one_per_provider(plan.busy_days))
        ]
        empty = [
            Request("GET", availability_path(p, d), headers=auths[n % len(auths)], kind="empty")
            for n, (p, d) in enumerate(one_per_provider(plan.empty_days))
        ]
        searches = search.requests(plan, auths)
        bookers = Bookers(plan, tokens, args.collisions)
        runner = Runner(args, server, stack)

        log("warming up (untimed): users/me, availability, and a few bookings")
        for requests, count in (
            (me, 10 * args.clients),
            (busy, 10 * args.clients),
            (empty, 10 * args.clients),
            (searches, 10 * args.clients),
        ):
            warm = runner.generator.closed_loop(
                lambda i, r=requests: r[i % len(r)], ok_200, args.clients, total=count
            )
            failed = [o.status for o in warm.outcomes if not o.ok]
            if failed:
                raise RuntimeError(f"warm-up failed: {failed[:10]}\n{server.log_tail()}")
        warm = bookers.requests(4 * args.workers)
        warm = [r for r in warm if r.kind == "create"]
        done = runner.generator.closed_loop(
            lambda i: warm[i], lambda s, b: s == 201, len(warm), total=len(warm)
        )
        if not all(o.ok for o in done.outcomes):
            raise RuntimeError(
                f"warm-up bookings failed: {[o.status for o in done.outcomes]}\n{server.log_tail()}"
            )

        for number in range(1, args.rounds + 1):
            rounds(args, runner, bookers, number, me=me, busy=busy, empty=empty, searches=searches)
    finally:
        server.stop()
    return pool(runner, checked, len(busy), len(empty)) | {
        "providers_per_service": dict(search.providers_per_service(plan))
    }


def rounds(args, runner: Runner, bookers: Bookers, number: int, *, me, busy, empty, searches) -> None:
    """One round: creations beside users/me/ at each rate, then availability in closed and open
    loop. The subject goes first in odd rounds, the reference in even ones, so drift hits both."""

    def in_order(steps: list) -> None:
        for step in steps if number % 2 else reversed(steps):
            step()

    for rate in args.rates:
        creations = bookers.requests(round(rate * args.duration))
        in_order(
            [
                partial(runner.open, f"create @{rate:g}/s", number, creations, rate, creation=True),
                partial(runner.open, f"users/me @{rate:g}/s", number, me, rate),
            ]
        )
    in_order(
        [
            partial(runner.closed, "availability busy, closed", number, busy),
            partial(runner.closed, "availability empty, closed", number, empty),
            partial(runner.closed, "users/me, closed", number, me),
        ]
    )
    rate = args.availability_rate
    steps = [
        partial(runner.open, f"availability busy @{rate:g}/s", number, busy, rate),
        partial(runner.open, f"availability empty @{rate:g}/s", number, empty, rate),
    ]
    if rate not in args.rates:
        steps.append(partial(runner.open, f"users/me @{rate:g}/s", number, me, rate))
    in_order(steps)
    in_order(search.round_steps(args, runner, number, searches))


def one_per_provider(days: list) -> list:
    """The first (busiest) day of each provider, so the requests rotate over providers."""
    seen, out = set(), []
    for item in days:
        if item[0] not in seen:
            seen.add(item[0])
            out.append(item)
    return out


def pool(runner: Runner, checked: int, busy: int, empty: int) -> dict:
    """Each label's rounds pooled: mean throughput, percentiles over every round's requests."""
    figures = {}
    for label, runs in runner.runs.items():
        outcomes = runner.outcomes[label]
        entry = {
            "throughput_rps": round(statistics.fmean(r["throughput_rps"] for r in runs), 2),
            "throughput_rps_rounds": [r["throughput_rps"] for r in runs],
            "requests": len(outcomes),
            "errors": error_counts(outcomes),
            "latency_ms": latency_ms(outcomes),
            "cpu_percent": {
                group: round(statistics.fmean(r["cpu_percent"][group] for r in runs), 1)
                for group in runs[0]["cpu_percent"]
            },
        }
        if "max_start_lag_ms" in runs[0]:
            entry["max_start_lag_ms"] = max(r["max_start_lag_ms"] for r in runs)
        if label.startswith("create"):
            for kind, status in (("create", "201"), ("collide", "409")):
                mine = [o for o in outcomes if o.kind == kind]
                entry[f"{status}s"] = sum(o.ok for o in mine)
                entry[f"latency_{status}_ms"] = latency_ms(mine)
            del entry["latency_ms"]
        figures[label] = entry
    labelled = [
        (f"{label} round {n}", r) for label, runs in runner.runs.items() for n, r in enumerate(runs, 1)
    ]
    return {
        "figures": figures,
        "rounds": dict(runner.runs),
        "noisy_runs": busy_runs(labelled),
        "plan_checked_days": checked,
        "busy_days_requested": busy,
        "empty_days_requested": empty,
    }
