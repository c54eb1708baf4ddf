"""The production settings, with the floor's URLs added. For the benchmark's gunicorn only."""

from config.settings.prod import *  # noqa: F403

ROOT_URLCONF = "benchmarks.server.urls"
