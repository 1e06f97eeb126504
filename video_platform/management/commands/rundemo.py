"""Run the whole demo in one terminal: web (uvicorn), a Celery worker and beat; Ctrl-C stops them all."""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


def _interrupt(signum, frame):
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Start the web server, a Celery worker and Celery beat together; Ctrl-C stops all three."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--concurrency", type=int, default=2, help="worker processes")

    def handle(self, *args, host, port, concurrency, **options):
        python = sys.executable
        commands = {
            "web": [python, str(settings.BASE_DIR / "manage.py"), "serve", "--host", host, "--port", str(port)],
            "worker": [python, "-m", "celery", "-A", "video_platform", "worker", "--loglevel", "INFO",
                       "--concurrency", str(concurrency)],
            "beat": [python, "-m", "celery", "-A", "video_platform", "beat", "--loglevel", "INFO"],
        }  # fmt: skip  # a command line, one flag and its value together
        # `kill` (SIGTERM) stops the three as Ctrl-C does, instead of leaving the children running.
        signal.signal(signal.SIGTERM, _interrupt)
        processes = {name: subprocess.Popen(cmd, env=os.environ.copy()) for name, cmd in commands.items()}
        self.stdout.write(self.style.SUCCESS(f"Shareloop is up at http://{host}:{port}/  (Ctrl-C stops it)"))
        try:
            while True:
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(f"{name} exited with {process.returncode}; stopping the rest.")
                        return self._stop(processes)
                time.sleep(0.5)
        except KeyboardInterrupt:
            self._stop(processes)

    def _stop(self, processes):
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        self.stdout.write("Stopped web, worker and beat.")
