"""Benchmarks of the API against a throwaway production-like stack; see benchmarks/README.md.

Run with `.venv/bin/python -m benchmarks SCENARIO [options]`. This package is also imported by
the gunicorn it starts (benchmarks.server holds the benchmark-only settings and floor views), so
this file imports nothing.
"""
