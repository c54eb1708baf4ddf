"""requests: the user API's read requests beside the "floor", a plain Django view of the same rows.

Seeds 10,000 users, signs in a staff user holding accounts.view_user through the API, and
measures GET /api/v1/users/ (page 1 and page 400), /api/v1/users/{id}/ and /api/v1/users/me/
against gunicorn with the production settings, each in closed loop (C clients back to back:
capacity) and open loop (a fixed rate: latency), next to the same rows served by a plain
Django function view (no DRF, no auth, no throttles) from the same gunicorn in the same run.
Also records the gunicorn workers' memory after warm-up, 1,000 and 10,000 requests. With
--template, the full-stack FastAPI template's backend answers the same four reads from its own
database and uvicorn in the same rounds (benchmarks/template.py), for an ours/template ratio.

    .venv/bin/python -m benchmarks requests
    .venv/bin/python -m benchmarks requests --repo /tmp/bench-base --json var/bench-base.json
    .venv/bin/python -m benchmarks requests --template ../full-stack-fastapi-template/backend
"""

import argparse
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path

from benchmarks.loadgen import LoadGenerator, Request
from benchmarks.measure import measure_closed, measure_open, ok_200, settle
from benchmarks.options import add_stack_options, log, non_negative_int, positive_float, positive_int
from benchmarks.probes import CpuMeter
from benchmarks.report import now_utc, write_json
from benchmarks.scenarios.requests.common import (
    BENCH_THROTTLES,
    BENCH_TOKEN_MINUTES,
    NAME,
    RSS_CHECKPOINT,
    SMOKE,
    SUMMARY,
    TYPES,
)
from benchmarks.scenarios.requests.measurement import Measured, MemoryLog
from benchmarks.scenarios.requests.report import build_report, count_errors, describe, print_report
from benchmarks.scenarios.requests.setup import add_template_side, check_floor, request_types, seed, sign_in
from benchmarks.stack import BENCH_SETTINGS, Stack, Target
from benchmarks.stats import latency_ms
from benchmarks.template import TemplateApp, TemplateCheckout

__all__ = ["NAME", "SMOKE", "SUMMARY", "add_arguments", "run"]


def type_list(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = sorted(set(names) - TYPES.keys())
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(TYPES)}: {value}")
    return names


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--workers", type=positive_int, default=2, help="gunicorn workers (%(default)s)")
    add(
        "--worker-class",
        choices=["sync", "gthread"],
        default="sync",
        help="gunicorn worker class (%(default)s)",
    )
    add("--threads", type=positive_int, default=4, help="threads per gthread worker (%(default)s)")
    add("--clients", type=positive_int, default=16, help="closed-loop concurrent clients (%(default)s)")
    add("--duration", type=positive_float, default=5.0, help="seconds of each closed-loop run (%(default)s)")
    add("--rate", type=positive_float, default=50.0, help="open-loop requests per second (%(default)s)")
    add("--open-duration", type=positive_float, help="seconds of each open-loop run (--duration)")
    add("--rounds", type=positive_int, default=2, help="rounds, ours and floor alternating (%(default)s)")
    add("--users", type=positive_int, default=10_000, help="users to seed (%(default)s)")
    add("--types", type=type_list, default=list(TYPES), help=f"request types ({','.join(TYPES)})")
    add(
        "--wait-idle",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="before each run, wait up to this long for other processes to go quiet; 0: don't (%(default)s)",
    )
    add(
        "--rss-requests",
        type=non_negative_int,
        default=10_000,
        help="mixed requests sent between memory readings; 0 skips them (%(default)s)",
    )
    add(
        "--template",
        type=Path,
        metavar="PATH",
        help="also measure the full-stack FastAPI template: its backend/ directory, with its own .venv",
    )
    add(
        "--template-index",
        action="store_true",
        help="add an index on the template's user.created_at, which its list sorts on (it ships without)",
    )
    add(
        "--template-close",
        action="store_true",
        help="send the template Connection: close, a TCP connect per request as with gunicorn's sync workers",
    )
    add_stack_options(parser)


def run(args: argparse.Namespace) -> int:
    args.open_duration = args.open_duration or args.duration
    target = Target(args.repo.resolve())
    target.check()
    checkout = TemplateCheckout(args.template.resolve()) if args.template else None
    if checkout:
        checkout.check()
    revision, started = target.revision(), now_utc()  # before the run: a working tree can change during it
    extra_env = {**BENCH_THROTTLES, "JWT_ACCESS_TOKEN_MINUTES": BENCH_TOKEN_MINUTES}
    results: dict[str, dict[str, Measured]] = {}
    template_config: dict = {}
    sent = 0  # requests gunicorn has served, for the memory readings

    with Stack(target, args.postgres_url, args.redis_url, extra_env=extra_env) as stack, ExitStack() as extra:
        stack.create_databases()
        log(f"seeding {args.users} users (bulk insert, one shared password hash)")
        data = seed(stack, args.users)
        log("VACUUM (ANALYZE) on the default database")
        stack.databases.vacuum_analyze("default")
        template = None
        if checkout:
            # Closed before the stack: its server stops and its database is dropped first.
            work_dir = stack.tmp / "template"
            template = TemplateApp(
                checkout, args.postgres_url, stack.prefix, work_dir, add_index=args.template_index
            )
            extra.enter_context(template)
            template_data = template.set_up(args.users)
        server = stack.start_server(
            workers=args.workers,
            worker_class=args.worker_class,
            threads=args.threads,
            settings_module=BENCH_SETTINGS,
        )
        types = request_types(args.types, data, sign_in(server, data.staff))
        checked = check_floor(server, types, data)
        log(f"the floor answers the same rows and fields as the API for: {', '.join(checked) or 'none'}")

        generator = LoadGenerator(server.port, args.timeout)
        meter = CpuMeter(server.pid, stack.prefix)
        memory = MemoryLog(server)
        # Each side's load generator and CPU meter: the template has its own server and port. In
        # the CPU figures its uvicorn (master and workers) takes the place of gunicorn.
        generators = {"ours": generator, "floor": generator}
        meters = {"ours": meter, "floor": meter}
        logs = {"ours": server.log_tail, "floor": server.log_tail}
        if template:
            template_server = template.start_server(args.workers)
            checked = add_template_side(types, template, template_data)
            log(f"the template answers 200 with the expected rows for: {', '.join(checked)}")
            keep_alive = not args.template_close
            generators["template"] = LoadGenerator(template_server.port, args.timeout, keep_alive=keep_alive)
            meters["template"] = CpuMeter(template_server.pid, stack.prefix)
            logs["template"] = template_server.log_tail
            template_config = template.describe(template_data, workers=args.workers, keep_alive=keep_alive)

        log("warming up")
        for kind in types:
            for side in kind.sides():
                warm = generators[side].closed_loop(
                    kind.maker(side), ok_200, args.clients, total=10 * args.clients
                )
                if side != "template":
                    sent += len(warm.outcomes)
                failed = [o.status for o in warm.outcomes if not o.ok]
                if failed:
                    message = f"warm-up of {kind.name} ({side}) failed: {failed[:10]}"
                    raise RuntimeError(f"{message}\n{logs[side]()}")
        memory.read("after warm-up", sent)

        mixed_phase = None
        if args.rss_requests:
            ours = [kind.ours for kind in types]

            def mixed(index: int) -> Request:
                requests = ours[index % len(ours)]
                return requests[(index // len(ours)) % len(requests)]

            first = min(RSS_CHECKPOINT, args.rss_requests)
            log(f"sending {args.rss_requests} mixed requests ({', '.join(k.name for k in types)}), ours only")
            meter.start()
            runs = [generator.closed_loop(mixed, ok_200, args.clients, total=first)]
            sent += len(runs[0].outcomes)
            memory.read(f"after {first:,} mixed", sent)
            if args.rss_requests > first:
                runs.append(
                    generator.closed_loop(mixed, ok_200, args.clients, total=args.rss_requests - first)
                )
                sent += len(runs[1].outcomes)
                memory.read(f"after {args.rss_requests:,} mixed", sent)
            cpu = meter.stop()
            outcomes = [o for r in runs for o in r.outcomes]
            mixed_phase = {
                "requests": len(outcomes),
                "errors": sum(not o.ok for o in outcomes),
                "latency_ms": latency_ms(outcomes),
                "cpu_percent": asdict(cpu),
            }

        for round_number in range(args.rounds):
            for kind in types:
                # ours first in rounds 1, 3, ..., last in 2, 4, ... (the template, then the floor,
                # first): drift hits every side alike
                sides = kind.sides() if round_number % 2 == 0 else kind.sides()[::-1]
                for side in sides:
                    log(f"round {round_number + 1}/{args.rounds}: {kind.name} ({side}), closed loop")
                    settle(args.wait_idle)
                    summary, closed = measure_closed(
                        generators[side], meters[side], kind.maker(side), args.clients, args.duration
                    )
                    results.setdefault(kind.name, {}).setdefault(side, Measured()).closed.add(summary, closed)
                    if side != "template":
                        sent += len(closed.outcomes)
                for side in sides:
                    log(f"round {round_number + 1}/{args.rounds}: {kind.name} ({side}), {args.rate:g} req/s")
                    settle(args.wait_idle)
                    summary, opened = measure_open(
                        generators[side], meters[side], kind.maker(side), args.rate, args.open_duration
                    )
                    results[kind.name][side].open.add(summary, opened)
                    if side != "template":
                        sent += len(opened.outcomes)
        memory.read("at the end", sent)
        log("cleaning up")

    config = {**describe(args, target, revision, started, data), **template_config}
    report = build_report(types, results, memory, mixed_phase)
    print_report(args, config, report)
    if args.json:
        write_json(args.json, {"config": config, **report})
    return 0 if count_errors(report) == 0 else 1
