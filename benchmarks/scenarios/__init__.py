"""One module or package per scenario. Each has NAME, SUMMARY, add_arguments(parser) and
run(args) -> exit code.

Add a scenario by writing such a module and naming it in SCENARIOS. The larger scenarios are
packages: `__init__.py` holds the options and the run, beside `common.py` (the name, the request
types, the stack's environment), `setup.py`, `measurement.py`, `goals.py`, `report.py` and, for
the seeded ones, `data.py` (and the bookings' `plan.py`, what the load asks for).
"""

import importlib

SCENARIOS = {
    "login": "benchmarks.scenarios.login",
    "requests": "benchmarks.scenarios.requests",
    "catalog": "benchmarks.scenarios.catalog",
    "bookings": "benchmarks.scenarios.bookings",
}


def load(name: str):
    return importlib.import_module(SCENARIOS[name])
