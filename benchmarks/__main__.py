"""Entry point: `.venv/bin/python -m benchmarks [SCENARIO] [options]`.

SCENARIO is `login` (the default, so that `benchmarks/run.py --rate 10` works as it always has),
`requests`, `catalog` or `bookings`; `--scenario NAME` is accepted too. `SCENARIO --help` lists
its options.

`--smoke` runs every scenario (or the one named) once at a tiny size, each with its module's
SMOKE options: seconds of load on small data, to prove the harness still imports and runs, not to
measure anything. Options given after it are added to each scenario's (`--postgres-url ...`).
"""

import argparse
import signal
import sys

import psycopg

from benchmarks.options import log
from benchmarks.scenarios import SCENARIOS, load

DEFAULT_SCENARIO = "login"


def overview() -> str:
    lines = [
        "usage: python -m benchmarks [SCENARIO] [options]   (benchmarks/run.py and `make bench` too)",
        "",
        "Benchmarks of the API against a throwaway production-like stack (see benchmarks/README.md).",
        "",
        "scenarios:",
    ]
    lines += [f"  {name:<10} {load(name).SUMMARY}" for name in SCENARIOS]
    lines += [
        "",
        f"Without SCENARIO: {DEFAULT_SCENARIO}. `python -m benchmarks SCENARIO --help` lists its options.",
        "`python -m benchmarks --smoke [SCENARIO]`: every scenario (or one), tiny: a check, not a figure.",
    ]
    return "\n".join(lines)


def pick_scenario(argv: list[str]) -> tuple[str, list[str]]:
    """The scenario named first or by --scenario, and the remaining arguments."""
    if argv and argv[0] in SCENARIOS:
        return argv[0], argv[1:]
    for i, arg in enumerate(argv):
        if arg == "--scenario" and i + 1 < len(argv):
            return argv[i + 1], argv[:i] + argv[i + 2 :]
        if arg.startswith("--scenario="):
            return arg.split("=", 1)[1], argv[:i] + argv[i + 1 :]
    return DEFAULT_SCENARIO, argv


def raise_system_exit(signum, frame) -> None:
    log("terminated; cleaning up")
    raise SystemExit(128 + signum)


def smoke(argv: list[str]) -> int:
    """Every scenario (or the one named first) with its SMOKE options and `argv`'s; the worst exit."""
    names = [argv.pop(0)] if argv and argv[0] in SCENARIOS else list(SCENARIOS)
    failed = []
    for name in names:
        log(f"smoke: {name}")
        status = run_scenario(name, [*load(name).SMOKE, *argv])
        if status != 0:
            failed.append(f"{name} (exit {status})")
    log(f"smoke: {'failed: ' + ', '.join(failed) if failed else 'every scenario ran'}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv in (["-h"], ["--help"]):
        print(overview())
        return 0
    if "--smoke" in argv:
        argv.remove("--smoke")
        signal.signal(signal.SIGTERM, raise_system_exit)
        return smoke(argv)
    name, rest = pick_scenario(argv)
    if name not in SCENARIOS:
        print(f"unknown scenario {name!r}\n\n{overview()}", file=sys.stderr)
        return 2
    return run_scenario(name, rest)


def run_scenario(name: str, rest: list[str]) -> int:
    scenario = load(name)
    parser = argparse.ArgumentParser(
        prog=f"python -m benchmarks {name}",
        description=scenario.__doc__.split("\n\n")[0],
    )
    scenario.add_arguments(parser)
    args = parser.parse_args(rest)
    signal.signal(signal.SIGTERM, raise_system_exit)  # `kill` cleans up too, like Ctrl-C
    try:
        return scenario.run(args)
    except KeyboardInterrupt:
        log("interrupted; cleaned up")
        return 130
    except (RuntimeError, psycopg.OperationalError) as exc:
        log(f"failed: {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
