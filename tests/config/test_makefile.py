"""`make migrate` says what it did to each database: applied migrations, or had none to apply."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_migrate_says_applied_on_a_fresh_database_and_up_to_date_after(tmp_path):
    env = {
        **{key: value for key, value in os.environ.items() if not key.endswith("DATABASE_URL")},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'default.sqlite3'}",
        "ANALYTICS_DATABASE_URL": f"sqlite:///{tmp_path / 'analytics.sqlite3'}",
        "LOGS_DATABASE_URL": f"sqlite:///{tmp_path / 'logs.sqlite3'}",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)

    def migrate() -> list[str]:
        # -o install: use the virtualenv as it is, never reinstall from a test.
        result = subprocess.run(
            ["make", "--no-print-directory", "-o", "install", "migrate"],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout.splitlines()

    first = migrate()
    assert len(first) == 3
    assert all(" migration(s) applied" in line for line in first), first
    assert migrate() == [
        f"migrate: database '{db}' was up to date" for db in ("default", "analytics", "logs")
    ]
