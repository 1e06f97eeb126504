"""docker-compose.yml, the Dockerfile, the Makefile and .ci/run say what the README promises, and every
command in them names something that really exists in this project."""

import importlib
import os
import re
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import yaml
from celery.app.utils import find_app
from django.core.management import get_commands
from django.urls import resolve

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "beat", "flower")
CELERY_SUBCOMMANDS = {"worker", "beat", "flower", "inspect"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def _command(service: dict) -> list[str]:
    command = service["command"]
    return command.split() if isinstance(command, str) else list(command)


def _health_command(service: dict) -> list[str]:
    test = service["healthcheck"]["test"]
    return test[1].split() if test[0] == "CMD-SHELL" else test[1:]


def assert_names_real_things(command: list[str]) -> None:
    """Every module, ``module:attribute``, celery app and manage.py command in ``command`` exists."""
    if command[:2] == ["sh", "-c"]:
        for part in command[2].split("&&"):
            assert_names_real_things(part.split())
        return
    if "-m" in command:
        importlib.import_module(command[command.index("-m") + 1])
    for arg in command:
        if re.fullmatch(r"[\w.]+:\w+", arg):
            module, attribute = arg.split(":")
            assert getattr(importlib.import_module(module), attribute)
    if "-A" in command:
        app = find_app(command[command.index("-A") + 1])
        assert app.main == "shareloop"
        subcommand = command[command.index("-A") + 2]
        assert subcommand in CELERY_SUBCOMMANDS
        if subcommand == "flower":
            assert "flower" in {ep.name for ep in entry_points(group="celery.commands")}
    if "manage.py" in command:
        assert command[command.index("manage.py") + 1] in get_commands()


def test_compose_has_web_worker_beat_postgres_redis_and_flower(services):
    assert {"web", "worker", "beat", "postgres", "redis", "flower"} <= set(services)


def test_the_app_services_share_one_image_built_from_this_repository(services):
    app_services = [name for name, service in services.items() if "build" in service or name in APP_SERVICES]
    assert set(APP_SERVICES) <= set(app_services)
    assert {services[name]["image"] for name in app_services} == {"shareloop:latest"}
    assert {str(services[name]["build"]) for name in app_services} == {"."}


@pytest.mark.parametrize("name", ["postgres", "redis", "web", "worker"])
def test_service_has_a_healthcheck(services, name):
    healthcheck = services[name]["healthcheck"]
    assert healthcheck["test"][0] in ("CMD", "CMD-SHELL")
    assert healthcheck["retries"] >= 1


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_waits_for_healthy_postgres_and_redis(services, name):
    depends_on = services[name]["depends_on"]
    assert depends_on["postgres"] == {"condition": "service_healthy"}
    assert depends_on["redis"] == {"condition": "service_healthy"}


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_is_restarted_when_it_dies(services, name):
    assert services[name]["restart"] == "unless-stopped"


def test_the_one_off_migration_is_not_restarted(services):
    assert services["migrate"]["restart"] == "no"


def test_web_waits_for_the_migrations(services):
    assert services["web"]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_is_configured_for_postgres_and_redis_in_compose(services, name):
    environment = services[name]["environment"]
    assert environment["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in environment["DATABASE_URL"]
    assert environment["REDIS_URL"].startswith("redis://redis:6379/")


@pytest.mark.parametrize("name", [*APP_SERVICES, "migrate"])
def test_service_command_names_real_modules(services, name):
    assert_names_real_things(_command(services[name]))


def test_web_is_served_by_manage_py_serve_which_trusts_forwarded_headers_only_when_configured(services):
    assert _command(services["web"])[:3] == ["python", "manage.py", "serve"]
    assert services["web"]["environment"]["FORWARDED_ALLOW_IPS"] == "${FORWARDED_ALLOW_IPS:-}"


@pytest.mark.parametrize(("name", "subcommand"), [("worker", "worker"), ("beat", "beat"), ("flower", "flower")])
def test_celery_services_run_the_project_app(services, name, subcommand):
    command = _command(services[name])
    assert command[:3] == ["celery", "-A", "video_platform"] and command[3] == subcommand


@pytest.mark.parametrize("name", ["web", "worker"])
def test_healthcheck_names_real_things(services, name):
    command = _health_command(services[name])
    assert_names_real_things(command)
    for url in re.findall(r"http://[^/]+(/[^'\"]*)", " ".join(command)):
        resolve(url)


def test_dockerfile_uses_python_311_and_serves_the_asgi_application():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11", dockerfile, re.MULTILINE)
    assert "requirements.txt" in dockerfile
    (cmd,) = re.findall(r"^CMD (.*)$", dockerfile, re.MULTILINE)
    assert_names_real_things(yaml.safe_load(cmd))
    assert yaml.safe_load(cmd)[:3] == ["python", "manage.py", "serve"]


def test_the_readme_starts_with_make_demo_then_make_test():
    readme = (ROOT / "README.md").read_text()
    first_block = re.search(r"```\w*\n(.*?)```", readme, re.DOTALL).group(1)
    commands = [line.split("#")[0].strip() for line in first_block.splitlines() if line.strip()]
    assert commands[:2] == ["make demo", "make test"]


def _make_dry_run(target: str) -> str:
    env = os.environ | {"MAKEFLAGS": ""}
    return subprocess.run(
        ["make", "-n", "-B", target], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout


def test_make_test_runs_pytest_in_the_projects_virtualenv():
    assert re.search(r"^\.venv/bin/python -m pytest", _make_dry_run("test"), re.MULTILINE)


def test_make_test_installs_the_test_requirements():
    assert "pip install --quiet -r requirements-dev.txt" in _make_dry_run("test")
    assert "-r requirements.txt" in (ROOT / "requirements-dev.txt").read_text()


def test_make_demo_migrates_seeds_and_starts_web_worker_and_beat():
    dry_run = _make_dry_run("demo")
    steps = [m.group(1) for m in re.finditer(r"manage\.py (\w+)", dry_run)]
    assert [s for s in steps if s in ("migrate", "seed", "rundemo")] == ["migrate", "seed", "rundemo"]
    assert {"migrate", "seed", "rundemo"} <= set(get_commands())


@pytest.fixture(scope="module")
def ci_run() -> str:
    return (ROOT / ".ci" / "run").read_text()


def test_ci_runs_make_test_after_setting_its_environment(ci_run):
    lines = [line.strip() for line in ci_run.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    exports = [i for i, line in enumerate(lines) if line.startswith("export ")]
    assert "make test" in lines and lines.index("make test") > max(exports)
    assert os.access(ROOT / ".ci" / "run", os.X_OK)


def test_ci_uses_postgres_and_redis_and_fails_instead_of_skipping(ci_run):
    assert re.search(r'^export DATABASE_URL="postgres://postgres@127\.0\.0\.1:5432/\w+"$', ci_run, re.MULTILINE)
    assert re.search(r'^export REDIS_URL="redis://127\.0\.0\.1:6379/\d+"$', ci_run, re.MULTILINE)
    assert re.search(r"^export CI=true$", ci_run, re.MULTILINE)


def test_ci_starts_postgres_and_redis_when_they_are_down(ci_run):
    assert 'pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start' in ci_run
    assert 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no' in ci_run


def test_every_runtime_dependency_is_pinned():
    for name in ("requirements.txt", "requirements-dev.txt"):
        for raw in (ROOT / name).read_text().splitlines():
            line = raw.split("#")[0].strip()
            if line and not line.startswith("-r"):
                assert re.fullmatch(r"[\w.\-\[\]]+==[\w.]+", line), f"{name}: {line} is not pinned"


def test_under_ci_the_suite_refuses_to_run_without_postgres_and_redis():
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")} | {"CI": "true"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "tests/test_policy.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "CI=true needs DATABASE_URL and REDIS_URL" in result.stdout + result.stderr
