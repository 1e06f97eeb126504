#!/usr/bin/env python
import os
import sys
from pathlib import Path

DEMO_ENV = Path(__file__).resolve().parent / "var" / "demo.env"


def demo_environment() -> None:
    """Beside a running `make demo`, act on the same demo: it writes its configuration to var/demo.env.

    Used only when this process is not configured itself (no SECRET_KEY, DEBUG or DEMO_MODE), where
    settings would otherwise refuse to start; a variable set in the environment always wins.
    """
    if not DEMO_ENV.exists() or any(os.environ.get(name) for name in ("SECRET_KEY", "DEBUG", "DEMO_MODE")):
        return
    for line in DEMO_ENV.read_text().splitlines():
        name, _, value = line.partition("=")
        if name and value:
            os.environ.setdefault(name, value)
    print(f"manage.py: using the demo's configuration from {os.path.relpath(DEMO_ENV)}", file=sys.stderr)


def main() -> None:
    demo_environment()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "video_platform.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
