"""templates/app_template and `manage.py newapp`: a new app joins every list that names the apps,
once, and comes out complete: it migrates into the database chosen for it, lints clean, keeps the
schema valid and passes its own tests as generated.

The end-to-end test works in a copy of the repository in a temporary directory, so the real tree
never holds a generated app. It takes some 30 s; `-m "not app_template"` leaves it out.
"""

import ast
import os
import shutil
import sqlite3
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from django.conf import settings

from apps.core.management.app_template import RegistrationError, register, template_names

ROOT = Path(settings.BASE_DIR)
LISTING_FILES = ("config/settings/base.py", "apps/roles/spec.py", "pyproject.toml")
KERNEL_CONTRACT = "core is a kernel: it imports no domain app"


def assigned(path: Path, name: str) -> ast.expr:
    """The expression assigned to `name` at the top level of the Python file `path`."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return node.value
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == name:
            return node.value
    raise LookupError(name)


def item(dictionary: ast.expr, key: str) -> ast.expr:
    """The value of `key` in a dict display, whose other values need not be literals; a key may be
    a constant's name (`SystemRole.MANAGER` for "manager")."""
    pairs = zip(dictionary.keys, dictionary.values, strict=True)
    return next(value for name, value in pairs if _key(name) == key)


def _key(node: ast.expr) -> str:
    return node.attr.lower() if isinstance(node, ast.Attribute) else ast.literal_eval(node)


def listed(root: Path) -> dict:
    """What each list that names the apps holds, read back from the files under `root`."""
    base = root / "config/settings/base.py"
    manager = item(assigned(root / "apps/roles/spec.py", "SYSTEM_ROLES"), "manager")
    permissions = next(keyword.value for keyword in manager.keywords if keyword.arg == "permissions")
    contracts = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    tags = ast.literal_eval(item(assigned(base, "SPECTACULAR_SETTINGS"), "TAGS"))
    return {
        "LOCAL_APPS": ast.literal_eval(assigned(base, "LOCAL_APPS")),
        "DATABASE_APPS_MAPPING": ast.literal_eval(assigned(base, "DATABASE_APPS_MAPPING")),
        "tags": [tag["name"] for tag in tags],
        "manager": list(ast.literal_eval(permissions)),
        "kernel": next(c for c in contracts if c["name"] == KERNEL_CONTRACT)["forbidden_modules"],
    }


@pytest.fixture
def listing_files(tmp_path) -> Path:
    """A root with copies of the files that list the apps."""
    for name in LISTING_FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


@pytest.mark.parametrize(
    ("label", "model", "names"),
    [
        ("widgets", None, ("Widget", "widget", "widget", "widgets")),
        ("stock_items", None, ("StockItem", "stockitem", "stock_item", "stock-items")),
        ("categories", None, ("Category", "category", "category", "categories")),
        ("addresses", None, ("Address", "address", "address", "addresses")),
        ("people", "Person", ("Person", "person", "person", "people")),
    ],
)
def test_the_template_names_follow_from_the_label(label, model, names):
    derived = template_names(label, model)
    assert (derived["model_class"], derived["model_name"], derived["entity"], derived["url_prefix"]) == names
    assert len(derived["index_name"]) <= 30


class TestRegistration:
    def test_a_new_app_is_added_at_the_end_of_every_list(self, listing_files):
        before = listed(listing_files)
        changed = register(listing_files, "widgets")
        after = listed(listing_files)
        assert len(changed) == 4
        assert after["LOCAL_APPS"] == [*before["LOCAL_APPS"], "apps.widgets"]
        assert after["tags"] == [*before["tags"], "widgets"]
        assert after["manager"] == [*before["manager"], "widgets.*"]
        assert after["kernel"] == [*before["kernel"], "apps.widgets"]
        assert after["DATABASE_APPS_MAPPING"] == before["DATABASE_APPS_MAPPING"]  # default: not listed

    def test_registering_again_changes_nothing(self, listing_files):
        register(listing_files, "widgets", database="logs")
        texts = {name: (listing_files / name).read_bytes() for name in LISTING_FILES}
        assert register(listing_files, "widgets", database="logs") == []
        assert {name: (listing_files / name).read_bytes() for name in LISTING_FILES} == texts

    def test_an_app_on_another_database_is_mapped_to_it(self, listing_files):
        register(listing_files, "widgets", database="analytics")
        assert listed(listing_files)["DATABASE_APPS_MAPPING"]["widgets"] == "analytics"

    def test_a_list_not_found_is_an_error_naming_the_line_and_no_file_changes(self, listing_files):
        pyproject = listing_files / "pyproject.toml"
        pyproject.write_text(pyproject.read_text().replace(KERNEL_CONTRACT, "core stands alone"))
        texts = {name: (listing_files / name).read_bytes() for name in LISTING_FILES}
        with pytest.raises(RegistrationError, match=r'pyproject.toml(.|\n)*"apps.widgets",'):
            register(listing_files, "widgets")
        assert {name: (listing_files / name).read_bytes() for name in LISTING_FILES} == texts

    def test_an_unknown_database_is_refused(self, listing_files):
        with pytest.raises(RegistrationError, match="archive"):
            register(listing_files, "widgets", database="archive")


# --- End to end, in a copy of the repository ------------------------------------------------------------
# Services the copy must not reach: with none set it runs on SQLite files of its own and local memory.
SERVICE_VARIABLES = (
    "DATABASE_URL",
    "ANALYTICS_DATABASE_URL",
    "LOGS_DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
)
CHECK_AND_MIGRATE = """
import django
django.setup()
from django.core.management import call_command
call_command("makemigrations", check=True, dry_run=True, verbosity=0)
for alias in ("default", "analytics", "logs"):
    call_command("migrate", database=alias, interactive=False, verbosity=0)
"""
# The suite's checks that every app must pass (schema, permission specs, strict fields and filters, roles).
PROJECT_WIDE_TESTS = (
    "tests/core/test_endpoint_coverage.py",
    "tests/core/test_schema.py::test_the_generated_schema_is_valid_openapi_3",
    "tests/core/test_schema.py::test_every_operation_documents_its_errors_in_the_error_shape",
    "tests/core/test_schema.py::test_every_operation_and_tag_is_described_for_clients",
    "tests/core/test_schema.py::test_every_path_id_is_a_positive_integer",
    "tests/core/test_schema.py::test_component_names_read_naturally",
    "tests/core/test_filters.py::test_every_filterset_bounds_its_datetime_and_integer_filters",
    "tests/core/test_write_bodies.py::TestStrictBooleans::test_no_writable_boolean_of_the_api_is_drfs_lenient_one",
    "tests/roles/test_api.py::TestUserRoles",  # hands out the manager role, the new app in it
)


def copy_repository(to: Path) -> None:
    """The repository's files as git sees them (tracked, and new ones it does not ignore); without
    git, the tree less what is never part of it."""
    try:
        names = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout.decode()
    except (OSError, subprocess.CalledProcessError):
        ignored = shutil.ignore_patterns(".git", ".venv", "var", "__pycache__", ".*_cache", ".env")
        shutil.copytree(ROOT, to, ignore=ignored, dirs_exist_ok=True)
        return
    for name in filter(None, names.split("\0")):
        if (ROOT / name).is_file():  # a tracked file deleted in the work tree is not copied
            (to / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, to / name)


def run(*args: str, cwd: Path) -> str:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in SERVICE_VARIABLES and not key.startswith(("PYTEST_", "DJANGO_"))
    }
    environment.update(DJANGO_SETTINGS_MODULE="config.settings.test", PYTHONPATH=str(cwd))
    result = subprocess.run(args, cwd=cwd, env=environment, capture_output=True, text=True, timeout=600)
    command = " ".join(args[:4])
    assert result.returncode == 0, f"{command} failed:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
    return result.stdout


def tables(database: Path) -> set[str]:
    with sqlite3.connect(database) as connection:
        return {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


@pytest.mark.app_template
def test_newapp_makes_a_registered_app_that_passes_its_own_tests(tmp_path):
    copy = tmp_path / "repository"
    copy_repository(copy)
    python = sys.executable

    run(python, "manage.py", "newapp", "widgets", cwd=copy)
    run(python, "manage.py", "newapp", "stock_items", "--database", "analytics", cwd=copy)
    assert (copy / "apps/widgets/migrations/0001_initial.py").is_file()
    assert (copy / "tests/stock_items/test_endpoint_permissions.py").is_file()

    # The shipped migrations are what the models need, and each table is made in its own database.
    run(python, "-c", CHECK_AND_MIGRATE, cwd=copy)
    assert "widgets_widget" in tables(copy / "var/default.sqlite3")
    assert "stock_items_stockitem" in tables(copy / "var/analytics.sqlite3")
    assert "stock_items_stockitem" not in tables(copy / "var/default.sqlite3")

    generated = ["apps/widgets", "tests/widgets", "apps/stock_items", "tests/stock_items"]
    run(python, "-m", "ruff", "check", *generated, cwd=copy)
    run(python, "-m", "ruff", "format", "--check", *generated, cwd=copy)
    # Services and selectors are in mypy's strict scope, and the new apps in the import contracts.
    run(python, "-m", "mypy", "apps/widgets", "apps/stock_items", cwd=copy)
    run(str(Path(python).parent / "lint-imports"), cwd=copy)

    # The test databases are made from the models (--no-migrations, twice as fast to start): every
    # migration has just run above, and makemigrations --check found the models and migrations equal.
    output = run(
        python,
        "-m",
        "pytest",
        "-n",
        "0",
        "-p",
        "no:cacheprovider",
        "--no-migrations",
        "-q",
        "tests/widgets",
        "tests/stock_items",
        *PROJECT_WIDE_TESTS,
        cwd=copy,
    )
    summary = output.strip().splitlines()[-1]
    assert " passed" in summary, output[-3000:]
    assert not (ROOT / "apps/widgets").exists()
