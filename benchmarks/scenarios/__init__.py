"""One module per scenario. Each has NAME, SUMMARY, add_arguments(parser) and run(args) -> exit code.

Add a scenario by writing such a module and naming it in SCENARIOS.
"""

import importlib

SCENARIOS = {
    "login": "benchmarks.scenarios.login",
    "requests": "benchmarks.scenarios.requests",
}


def load(name: str):
    return importlib.import_module(SCENARIOS[name])
