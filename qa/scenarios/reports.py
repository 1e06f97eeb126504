"""Machine-readable scenario results: JUnit XML (one test case per expectation) and JSON, for CI dashboards."""

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from .runner import Check


@dataclass
class ScenarioResult:
    name: str
    path: str
    users: dict[str, str]
    checks: list[Check] = field(default_factory=list)
    seconds: float = 0.0
    stalled: bool = False  # an event was never delivered: the run stops after this file

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(check.passed for check in self.checks)


def junit_xml(results: list[ScenarioResult]) -> str:
    """One <testsuite> per file, one <testcase> per expectation; a failure carries the diff as its text."""
    suites = ET.Element(
        "testsuites",
        name="scenarios",
        tests=str(sum(len(r.checks) for r in results)),
        failures=str(sum(not c.passed for r in results for c in r.checks)),
    )
    for result in results:
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=result.name,
            file=result.path,
            tests=str(len(result.checks)),
            failures=str(sum(not c.passed for c in result.checks)),
            errors="0",
            time=f"{result.seconds:.3f}",
        )
        for check in result.checks:
            case = ET.SubElement(suite, "testcase", classname=result.path, name=check.title)
            if not check.passed:
                first = check.details[0].splitlines()[0] if check.details else "failed"
                failure = ET.SubElement(case, "failure", message=first)
                failure.text = "\n".join(check.details)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def json_report(results: list[ScenarioResult], *, run_id: str) -> str:
    return json.dumps(
        {
            "run_id": run_id,
            "scenarios": len(results),
            "passed": sum(r.passed for r in results),
            "failed": sum(not r.passed for r in results),
            "checks": sum(len(r.checks) for r in results),
            "results": [
                {
                    "name": r.name,
                    "path": r.path,
                    "passed": r.passed,
                    "users": r.users,
                    "seconds": round(r.seconds, 3),
                    "checks": [{"title": c.title, "passed": c.passed, "details": c.details} for c in r.checks],
                }
                for r in results
            ],
        },
        indent=2,
    )
