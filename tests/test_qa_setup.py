"""The documented QA commands work as written: make test finds or names Chromium, CI runs the scenarios, and a
second terminal's manage.py acts on the running demo's configuration."""

import importlib.util
import os
import shutil
import subprocess

from django.conf import settings

ROOT = settings.BASE_DIR


def test_make_test_says_in_one_line_what_to_install_when_it_cannot_install_chromium(tmp_path):
    tools = tmp_path / "bin"  # make and id, but no apt-get: the situation of a user who is not root
    tools.mkdir()
    for tool in ("make", "id"):
        (tools / tool).symlink_to(shutil.which(tool))
    result = subprocess.run(
        ["make", "-s", "-C", str(ROOT), "chromium", "CHROMIUM=/nonexistent/chromium"],
        env={"PATH": str(tools)},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert result.stdout.splitlines() == [
        (
            "make test needs Chromium at /nonexistent/chromium for the browser tests: "
            "install it with 'sudo apt-get install chromium'"
        )
    ]


def test_a_run_of_other_test_files_does_not_need_chromium():
    result = subprocess.run(
        ["make", "-s", "-C", str(ROOT), "chromium", "CHROMIUM=/nonexistent/chromium", "PYTEST_ARGS=tests/test_api.py"],
        capture_output=True,
        text=True,
    )
    assert (result.returncode, result.stdout) == (0, "")


def test_ci_lints_then_runs_the_tests_then_the_scenarios():
    commands = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.startswith("make ")]
    assert commands == ["make lint", "make test", "make scenarios"]


def _manage_module():
    spec = importlib.util.spec_from_file_location("manage_under_test", ROOT / "manage.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_second_terminal_uses_the_demo_configuration_when_it_has_none_of_its_own(tmp_path, monkeypatch):
    manage = _manage_module()
    monkeypatch.setattr(manage, "DEMO_ENV", tmp_path / "demo.env")
    manage.DEMO_ENV.write_text("DEMO_MODE=1\nDEBUG=1\nDATABASE_URL=postgres://demo/db\n")
    for name in ("SECRET_KEY", "DEBUG", "DEMO_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgres://mine/db")

    manage.demo_environment()
    assert (os.environ["DEMO_MODE"], os.environ["DEBUG"]) == ("1", "1")
    assert os.environ["DATABASE_URL"] == "postgres://mine/db"  # what the terminal sets wins


def test_a_configured_process_ignores_the_demo_configuration(tmp_path, monkeypatch):
    manage = _manage_module()
    monkeypatch.setattr(manage, "DEMO_ENV", tmp_path / "demo.env")
    manage.DEMO_ENV.write_text("DEMO_MODE=1\n")
    monkeypatch.setenv("SECRET_KEY", "production-secret")
    monkeypatch.delenv("DEMO_MODE", raising=False)

    manage.demo_environment()
    assert "DEMO_MODE" not in os.environ
