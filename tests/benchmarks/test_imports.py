"""The benchmark harness imports, and each scenario's smoke options parse: the cheap half of
`make bench-smoke`, which runs them against a real stack."""

import argparse
import importlib
import pkgutil

import pytest

import benchmarks
from benchmarks.scenarios import SCENARIOS, load

# Imported by the benchmark's gunicorn only: it is the production settings, which refuse to load
# without the production environment.
SERVER_ONLY = {"benchmarks.server.settings"}

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(benchmarks.__path__, prefix="benchmarks.")
    if info.name not in SERVER_ONLY
)


@pytest.mark.parametrize("module", MODULES)
def test_every_benchmark_module_imports(module):
    importlib.import_module(module)


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_scenario_has_a_smoke_run_its_parser_accepts(name):
    scenario = load(name)
    assert name == scenario.NAME
    parser = argparse.ArgumentParser()
    scenario.add_arguments(parser)
    parser.parse_args(scenario.SMOKE)
