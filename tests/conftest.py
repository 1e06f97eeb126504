import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from qa.delivery import process_stop

from .factories import UserFactory, VideoFactory

ROOT = Path(__file__).resolve().parent.parent
# Followers per post fan-out task in the test worker: small, so a few hundred followers take several chunks.
WORKER_POST_FAN_OUT_CHUNK_SIZE = 50


def pytest_configure(config):
    # In CI the integration tests must run on PostgreSQL and Redis: a missing service fails, never skips.
    if os.environ.get("CI") == "true" and not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        raise pytest.UsageError("CI=true needs DATABASE_URL and REDIS_URL: integration tests must not be skipped.")


def wait_until(condition, *, timeout: float, what: str, interval: float = 0.1):
    """Poll until ``condition()`` is truthy and return it; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout}s waiting for {what}")
        time.sleep(interval)


def _database_url(db: dict) -> str:
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker):
    """One real ``celery worker`` process for the whole session, on the test database and the broker."""
    from django.conf import settings

    from video_platform.celery import app

    app.control.purge()  # fails loudly when the broker is down
    env = os.environ | {
        "DATABASE_URL": _database_url(settings.DATABASES["default"]),
        "DEBUG": "1",
        "POST_FAN_OUT_CHUNK_SIZE": str(WORKER_POST_FAN_OUT_CHUNK_SIZE),
    }
    log = open(ROOT / "var" / "test-worker.log", "w") if (ROOT / "var").is_dir() else subprocess.DEVNULL
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "video_platform", "worker", "--concurrency", "2",
         "--loglevel", "INFO", "--without-gossip", "--without-mingle", "-n", f"test-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    yield worker
    process_stop(worker)


@contextmanager
def asgi_process(log_name: str, **environment: str) -> Iterator[str]:
    """The app under uvicorn (ASGI), served as ``make demo`` and the image serve it, on the test database; yields its URL."""
    from django.conf import settings

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = os.environ | {
        "DATABASE_URL": _database_url(settings.DATABASES["default"]),
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "asgi-test-only-not-a-secret",
        **environment,
    }
    log = open(ROOT / "var" / log_name, "w") if (ROOT / "var").is_dir() else subprocess.DEVNULL
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/schema/", timeout=2).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError(f"uvicorn did not come up on {url} (exit code {server.poll()}); see var/{log_name}")
            time.sleep(0.1)
    try:
        yield url
    finally:
        process_stop(server)


@pytest.fixture(scope="session")
def asgi_server(django_db_setup, django_db_blocker):
    """Where open SSE streams are read: pytest-django's ``live_server`` is a threaded WSGI server, under
    which Django would consume an endless async stream before sending any of it."""
    # A keep-alive every second, so a test sees one without waiting 15 s.
    with asgi_process("test-web.log", DEBUG="1", INBOX_STREAM_KEEPALIVE_SECONDS="1") as url:
        yield url


def wait_for_event(client: APIClient, event_id: int, timeout: float = 30.0) -> dict:
    """Wait for delivery the way a QA script does: poll the event's status, never a fixed sleep.

    Answers the event once it is no longer ``pending``: ``done``, ``failed``, or ``held`` (fanned out, its
    anonymous shares waiting for the batch window until ``release_at``; POST /api/qa/release-held/ ends that).
    """
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(f"/api/events/{event_id}/").json()
        if body["status"] != "pending":
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"event {event_id} still pending after {timeout}s")
        time.sleep(0.05)


def api_client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def delivery_in_this_process(request):
    """For unit tests of the QA tools' own logic only: tasks run eagerly in this process, so delivery sees
    settings the session worker cannot have (production batching). Integration tests use ``celery_worker``,
    a real worker process; the two cannot be mixed in one test."""
    if "celery_worker" in request.fixturenames:
        raise pytest.UsageError("delivery_in_this_process is for unit tests: it cannot run beside celery_worker")
    from video_platform.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = eager


@pytest.fixture
def make_user(db):
    return UserFactory.create


@pytest.fixture
def creator(db):
    return UserFactory.create(username="cara_creator")


@pytest.fixture
def video(creator):
    return VideoFactory.create(creator=creator)
