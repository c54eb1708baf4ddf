"""One module per scenario. Each has NAME, SUMMARY, add_arguments(parser) and run(args) -> exit code.

Add a scenario by writing such a module and naming it in SCENARIOS. (catalog_data.py is not a
scenario: it holds the catalog scenario's seed.)
"""

import importlib

SCENARIOS = {
    "login": "benchmarks.scenarios.login",
    "requests": "benchmarks.scenarios.requests",
    "catalog": "benchmarks.scenarios.catalog",
}


def load(name: str):
    return importlib.import_module(SCENARIOS[name])
