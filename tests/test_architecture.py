"""Dependencies point one way (docs/architecture.md): the social core, then the inbox and analytics, then qa.

Read from the source with ``ast``, so a lazy import inside a function counts as much as one at the top.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Project wiring names every app; everything else in video_platform/ is the social core.
WIRING = {"settings.py", "urls.py", "celery.py", "asgi.py", "wsgi.py"}
# What each layer may not import: nothing above it.
FORBIDDEN = {
    "video_platform": {"inbox", "analytics", "qa"},
    "inbox": {"analytics", "qa"},
    "analytics": {"inbox", "qa"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def layer_modules(package: str) -> list[Path]:
    modules = sorted((ROOT / package).rglob("*.py"))
    if package == "video_platform":
        modules = [m for m in modules if m.relative_to(ROOT / package).as_posix() not in WIRING]
    return modules


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_above_it(package):
    offenders = {
        str(module.relative_to(ROOT)): sorted(imported_packages(module) & FORBIDDEN[package])
        for module in layer_modules(package)
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_check_sees_an_import_inside_a_function(tmp_path):
    module = tmp_path / "lazy.py"
    module.write_text("def f():\n    from inbox.policy import shows_actor\n    import analytics.models\n")
    assert imported_packages(module) == {"inbox", "analytics"}
