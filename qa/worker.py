"""A Celery worker process of this project, started and stopped by a QA command (``--worker``) or the tests."""

import os
import subprocess
import sys
from contextlib import contextmanager

from django.conf import settings


@contextmanager
def worker_process(*, concurrency: int = 2):
    """A Celery worker of this project for the duration of a command (``--worker``), on the same settings.

    Its log goes to ``var/qa-worker.log`` (under SHARELOOP_VAR_DIR).
    """
    os.makedirs(settings.VAR_DIR, exist_ok=True)
    log = open(settings.VAR_DIR / "qa-worker.log", "w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "video_platform", "worker", "--concurrency", str(concurrency),
         "--loglevel", "INFO", "--without-gossip", "--without-mingle", "-n", f"qa-{os.getpid()}@%h"],
        cwd=settings.BASE_DIR, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip  # a command line, one flag and its value together
    try:
        yield worker
    finally:
        process_stop(worker)
        log.close()


def process_stop(process: subprocess.Popen, *, grace_seconds: float = 20) -> None:
    """Stop a child process as Ctrl-C would (SIGTERM, a warm shutdown); kill it if it takes too long."""
    process.terminate()
    try:
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        process.kill()
