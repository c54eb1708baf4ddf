"""One module per scenario. Each has NAME, SUMMARY, add_arguments(parser) and run(args) -> exit code.

Add a scenario by writing such a module and naming it in SCENARIOS. (catalog_data.py and
bookings_data.py are not scenarios: they hold the catalog's and the bookings scenario's seeds.)
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
