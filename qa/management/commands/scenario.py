"""Run YAML scenarios against the API and a real worker; PASS/FAIL per expectation, exit 1 on any FAIL."""

import json
import time
from contextlib import nullcontext
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from inbox import batching
from qa.scenarios import SCHEMA, Check, ScenarioFormatError, ScenarioRun, scenario_load
from qa.scenarios.reports import ScenarioResult, json_report, junit_xml
from qa.scenarios.runner import (
    SCENARIO_PASSWORD,
    ScenarioCannotRun,
    configuration_refusal,
    run_id_new,
    run_users_delete,
)
from qa.worker import worker_process


class Command(BaseCommand):
    help = (
        "Run scenario files (YAML: users, steps, expected inboxes; see docs/qa.md). Every file is checked "
        "before anything runs. Needs a Celery worker: a running one, or --worker to start one."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", help="scenario files or folders of *.yaml")
        parser.add_argument("--worker", action="store_true", help="start a Celery worker for this run")
        parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for one event")
        parser.add_argument("--check", action="store_true", help="only validate the files, run nothing")
        parser.add_argument("--schema", action="store_true", help="print the file format's JSON Schema")
        parser.add_argument("--junit", metavar="FILE", help="also write the results as JUnit XML to FILE")
        parser.add_argument(
            "--json", metavar="FILE", dest="json_path", help="also write the results as JSON to FILE (- for stdout)"
        )
        parser.add_argument("--keep", action="store_true", help="keep the run's users (deleted after a run otherwise)")
        parser.add_argument("--cleanup", metavar="RUN_ID", help="delete the users a --keep run left, and run nothing")

    def handle(self, *args, files, worker, timeout, check, schema, junit, json_path, keep, cleanup, **options):
        if schema:
            self.stdout.write(json.dumps(SCHEMA, indent=2))
            return
        if cleanup:
            try:
                deleted = run_users_delete(cleanup)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"Deleted {deleted} user(s) of run {cleanup} and everything they did.")
            return
        scenarios = self._load(self._paths(files))
        if check:
            self.stdout.write(self.style.SUCCESS(f"{len(scenarios)} scenario file(s) are well-formed."))
            return
        if refusal := configuration_refusal(scenarios):
            raise CommandError(refusal)
        run_id, results = run_id_new(), []
        self._header(run_id, keep=keep)
        try:
            with worker_process() if worker else nullcontext():
                for index, scenario in enumerate(scenarios, 1):
                    result = self._run_one(scenario, run_id=run_id, index=index, timeout=timeout)
                    results.append(result)
                    if result.stalled:
                        self.stderr.write("Stopped: delivery stalled, so the remaining scenarios were not run.")
                        break
        except ScenarioCannotRun as exc:
            raise CommandError(str(exc)) from exc
        finally:
            if not keep:
                run_users_delete(run_id)
            self._write_reports(results, run_id=run_id, junit=junit, json_path=json_path)
        self._summary(results, total=len(scenarios))

    def _load(self, paths: list[str]) -> list:
        scenarios, malformed = [], 0
        for path in paths:
            try:
                scenarios.append(scenario_load(path))
            except ScenarioFormatError as exc:
                malformed += 1
                for error in exc.errors:
                    self.stderr.write(f"{exc.path}:{error}")
        if malformed:
            raise CommandError(f"{malformed} of {len(paths)} scenario file(s) are malformed; nothing was run.")
        return scenarios

    def _header(self, run_id: str, *, keep: bool) -> None:
        kept = f"kept (delete them with --cleanup {run_id})" if keep else "deleted after the run (--keep keeps them)"
        users = f"users are <name>_{run_id}_<file number>, password {SCENARIO_PASSWORD}"
        self.stdout.write(f"Run {run_id}: {users}, {kept}.")
        if window := batching.share_batch_seconds():
            self.stdout.write(
                f"Share batching is on ({window} s windows): events answer held, and the run releases its own "
                "users' held shares to check their inboxes."
            )

    def _run_one(self, scenario, *, run_id: str, index: int, timeout: float) -> ScenarioResult:
        self.stdout.write(self.style.MIGRATE_HEADING(f"\n{scenario.name}  ({scenario.path})"))
        run = ScenarioRun(scenario, run_id=run_id, index=index, timeout=timeout, on_check=self._report)
        users = ", ".join(f"{name}={real}" for name, real in run.real.items())
        self.stdout.write(f"  users: {users}")
        started = time.monotonic()
        checks = run.run()
        return ScenarioResult(scenario.name, scenario.path, run.real, checks, time.monotonic() - started, run.stalled)

    def _write_reports(self, results, *, run_id: str, junit: str | None, json_path: str | None) -> None:
        if junit:
            Path(junit).write_text(junit_xml(results), encoding="utf-8")
        if json_path == "-":
            self.stdout.write(json_report(results, run_id=run_id))
        elif json_path:
            Path(json_path).write_text(json_report(results, run_id=run_id), encoding="utf-8")

    def _summary(self, results: list[ScenarioResult], *, total: int) -> None:
        passed = sum(r.passed for r in results)
        failed = total - passed
        checks = sum(len(r.checks) for r in results)
        summary = f"\n{total} scenarios: {passed} passed, {failed} failed ({checks} checks)"
        if failed:
            self.stdout.write(self.style.ERROR(summary))
            raise CommandError(f"{failed} scenario(s) failed.")
        self.stdout.write(self.style.SUCCESS(summary))

    def _paths(self, files: list[str]) -> list[str]:
        if not files:
            raise CommandError("Name at least one scenario file or folder, e.g. scenarios/")
        paths = []
        for name in files:
            path = Path(name)
            if path.is_dir():
                paths += sorted(str(p) for p in path.glob("*.yaml"))
            elif path.is_file():
                paths.append(name)
            else:
                raise CommandError(f"No such scenario file or folder: {name}")
        return paths

    def _report(self, check: Check) -> None:
        label = self.style.SUCCESS("PASS") if check.passed else self.style.ERROR("FAIL")
        self.stdout.write(f"  {label}  {check.title}")
        for line in check.details:
            for part in line.splitlines():
                self.stdout.write(f"        {part}")
