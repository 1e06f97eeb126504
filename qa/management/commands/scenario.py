"""Run YAML scenarios against the API and a real worker; PASS/FAIL per expectation, exit 1 on any FAIL."""

import json
from contextlib import nullcontext
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from qa.delivery import worker_process
from qa.scenarios import SCHEMA, Check, ScenarioFormatError, ScenarioRun, scenario_load
from qa.scenarios.runner import SCENARIO_PASSWORD


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

    def handle(self, *args, files, worker, timeout, check, schema, **options):
        if schema:
            self.stdout.write(json.dumps(SCHEMA, indent=2))
            return
        paths = self._paths(files)
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
        if check:
            self.stdout.write(self.style.SUCCESS(f"{len(scenarios)} scenario file(s) are well-formed."))
            return
        passed = failed = 0
        with worker_process() if worker else nullcontext():
            for scenario in scenarios:
                self.stdout.write(self.style.MIGRATE_HEADING(f"\n{scenario.name}  ({scenario.path})"))
                run = ScenarioRun(scenario, timeout=timeout, on_check=self._report)
                users = ", ".join(f"{name}={real}" for name, real in run.real.items())
                self.stdout.write(f"  users: {users} (password {SCENARIO_PASSWORD})")
                checks = run.run()
                passed += sum(c.passed for c in checks)
                failed += sum(not c.passed for c in checks)
                if run.stalled:
                    raise CommandError("Stopped: delivery stalled, so the remaining scenarios were not run.")
        summary = f"\n{len(scenarios)} scenario(s): {passed} passed, {failed} failed"
        if failed:
            raise CommandError(summary.strip())
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
