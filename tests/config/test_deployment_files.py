"""The container and compose files describe a runnable, healthy, non-root deployment.

Static checks only: no Docker engine and no database are needed.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
ENTRYPOINT = REPO_ROOT / "docker" / "entrypoint.sh"
INIT_SCRIPT = REPO_ROOT / "docker" / "postgres" / "init-databases.sh"
GUNICORN_CONFIG = REPO_ROOT / "gunicorn.conf.py"

INFRASTRUCTURE_SERVICES = ("postgres", "redis")
MAIL_CATCHER = "mailpit"
APP_SERVICES = ("web", "worker", "beat")
# The processes that send email: web (requests queue it, eagerly when no worker runs) and worker.
MAIL_SENDING_SERVICES = ("web", "worker")
ALL_SERVICES = (*INFRASTRUCTURE_SERVICES, MAIL_CATCHER, *APP_SERVICES)


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())["services"]


@pytest.fixture(scope="module")
def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with line continuations joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, arguments = line.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def _instructions(instructions: list[tuple[str, str]], keyword: str) -> list[str]:
    return [arguments for name, arguments in instructions if name == keyword]


# --- docker-compose.yml -------------------------------------------------------------------------------


def test_compose_defines_the_database_cache_web_worker_and_beat_services(services):
    assert set(ALL_SERVICES) <= set(services)


@pytest.mark.parametrize("name", ALL_SERVICES)
def test_every_compose_service_has_a_healthcheck(services, name):
    healthcheck = services[name].get("healthcheck")
    assert healthcheck, f"{name} has no healthcheck"
    assert healthcheck.get("test"), f"{name}'s healthcheck has no test"
    assert not healthcheck.get("disable", False)


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_run_the_image_built_from_this_repository(services, name):
    service = services[name]
    build = service.get("build")
    context = build if isinstance(build, str) else (build or {}).get("context")
    assert context in (".", "./"), f"{name} is not built from the repository root"
    assert service.get("image") == services["web"].get("image"), "web, worker and beat share one image"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_start_only_after_postgres_and_redis_are_healthy(services, name):
    depends_on = services[name].get("depends_on")
    assert isinstance(depends_on, dict), f"{name} must use the long depends_on form with conditions"
    for dependency in INFRASTRUCTURE_SERVICES:
        assert depends_on.get(dependency, {}).get("condition") == "service_healthy", (
            f"{name} does not wait for {dependency} to be healthy"
        )


@pytest.mark.parametrize(("name", "mode"), [("web", "web"), ("worker", "worker"), ("beat", "beat")])
def test_app_services_select_their_role_through_the_entrypoint_mode(services, name, mode):
    command = services[name]["command"]
    assert (command if isinstance(command, list) else command.split())[0] == mode


def test_postgres_runs_the_init_script_that_creates_the_side_databases(services):
    mounts = services["postgres"].get("volumes", [])
    assert any(
        isinstance(mount, str)
        and mount.startswith("./docker/postgres/init-databases.sh:/docker-entrypoint-initdb.d/")
        for mount in mounts
    ), "init-databases.sh is not mounted into /docker-entrypoint-initdb.d"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_require_a_secret_key_instead_of_hard_coding_one(services, name):
    secret_key = services[name]["environment"]["SECRET_KEY"]
    assert re.fullmatch(r"\$\{SECRET_KEY:\?[^}]*\}", secret_key), "SECRET_KEY must be a required variable"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_point_each_database_alias_at_the_compose_postgres(services, name):
    environment = services[name]["environment"]
    for variable in ("DATABASE_URL", "ANALYTICS_DATABASE_URL", "LOGS_DATABASE_URL"):
        assert environment[variable].startswith("postgres://"), variable
        assert "@postgres:5432/" in environment[variable], variable
    names = {
        environment[variable].rsplit("/", 1)[1]
        for variable in ("DATABASE_URL", "ANALYTICS_DATABASE_URL", "LOGS_DATABASE_URL")
    }
    assert len(names) == 3, "the three aliases must use three distinct databases"


def _published_ports(service: dict) -> set[int]:
    """Container ports published to the host, from the short `[host_ip:]host:container` form."""
    return {int(str(port).rsplit(":", 1)[-1].split("/")[0]) for port in service.get("ports", [])}


def test_compose_runs_mailpit_with_its_inbox_and_smtp_port_published(services):
    mailpit = services[MAIL_CATCHER]
    assert mailpit["image"].split(":")[0] == "axllent/mailpit"
    assert {8025, 1025} <= _published_ports(mailpit)
    # The inbox shows every password reset link: keep it off other machines.
    assert all(str(port).startswith("127.0.0.1:") for port in mailpit["ports"])


@pytest.mark.parametrize("name", MAIL_SENDING_SERVICES)
def test_app_services_send_email_over_smtp_to_mailpit(services, name):
    environment = services[name]["environment"]
    assert environment["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert environment["EMAIL_HOST"] == MAIL_CATCHER
    assert str(environment["EMAIL_PORT"]) == "1025"
    assert str(environment.get("EMAIL_USE_TLS", "false")).lower() == "false", "Mailpit speaks plain SMTP"
    assert MAIL_CATCHER in services[name]["depends_on"]


@pytest.mark.parametrize("name", MAIL_SENDING_SERVICES)
def test_the_email_settings_compose_passes_are_ones_the_settings_read(services, name):
    settings_source = (REPO_ROOT / "config" / "settings" / "base.py").read_text()
    for variable in services[name]["environment"]:
        if variable.startswith("EMAIL_"):
            assert re.search(rf"env(?:\.\w+)?\(\s*[\"']{variable}[\"']", settings_source), variable


# --- Dockerfile --------------------------------------------------------------------------------------


def test_dockerfile_is_a_multi_stage_build(dockerfile_instructions):
    assert len(_instructions(dockerfile_instructions, "FROM")) >= 2


def test_dockerfile_runs_the_app_as_a_non_root_user(dockerfile_instructions):
    users = _instructions(dockerfile_instructions, "USER")
    assert users, "the image must switch to a non-root USER"
    final_user = users[-1].split(":")[0]
    assert final_user not in ("root", "0")


def test_dockerfile_entrypoint_is_the_entrypoint_script(dockerfile_instructions):
    entrypoints = _instructions(dockerfile_instructions, "ENTRYPOINT")
    assert entrypoints, "the image has no ENTRYPOINT"
    assert yaml.safe_load(entrypoints[-1]) == ["/app/docker/entrypoint.sh"]


def test_dockerfile_has_a_healthcheck(dockerfile_instructions):
    assert _instructions(dockerfile_instructions, "HEALTHCHECK")


# --- Shell scripts -----------------------------------------------------------------------------------


@pytest.mark.parametrize("script", [ENTRYPOINT, INIT_SCRIPT], ids=lambda path: path.name)
def test_deployment_scripts_are_executable_files(script):
    assert script.is_file()
    assert os.access(script, os.X_OK), f"{script.name} is not executable"


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
@pytest.mark.parametrize("script", [ENTRYPOINT, INIT_SCRIPT], ids=lambda path: path.name)
def test_deployment_scripts_are_valid_bash(script):
    result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("script", [ENTRYPOINT, INIT_SCRIPT], ids=lambda path: path.name)
def test_deployment_scripts_stop_at_the_first_error(script):
    assert "set -euo pipefail" in script.read_text()


def test_the_entrypoint_starts_gunicorn_with_the_config_file_at_the_repository_root():
    # The entrypoint runs from the repository root, so the relative name is that file.
    assert GUNICORN_CONFIG.is_file()
    web = ENTRYPOINT.read_text().split("    web)", 1)[1].split(";;", 1)[0]
    assert re.search(r"gunicorn config\.wsgi:application\s*\\\s*--config gunicorn\.conf\.py", web)


def test_the_image_contains_the_gunicorn_config_file():
    ignored = (REPO_ROOT / ".dockerignore").read_text().split()
    assert "gunicorn.conf.py" not in ignored and "*.py" not in ignored
