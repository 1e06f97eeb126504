"""Fixtures and hooks only: test modules never import this file. Plain functions that helpers compose live in
tests/clients.py (api_client) and tests/waiting.py (wait_until, wait_for_event)."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import pytest
from django.conf import settings

from inbox import dispatch, fan_out
from qa.worker import process_stop
from video_platform.celery import app
from video_platform.models import Event, EventStatus

from .factories import UserFactory, VideoFactory

# Fixture modules: the fault stack (tests/test_faults.py) and the client kit's pytest plugin, which QA teams
# install with pip (pytest11) and tests/test_client_kit.py loads from the repository.
sys.path.insert(0, str(settings.BASE_DIR / "qa" / "client"))
pytest_plugins = ["tests.fault_stack", "shareloop_qa.pytest_plugin"]


def pytest_configure(config):
    # In CI the integration tests must run on PostgreSQL and Redis: a missing service fails, never skips.
    if os.environ.get("CI") == "true" and not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        raise pytest.UsageError("CI=true needs DATABASE_URL and REDIS_URL: integration tests must not be skipped.")


def _log_file(name: str):
    var = settings.BASE_DIR / "var"
    return open(var / name, "w") if var.is_dir() else subprocess.DEVNULL


@pytest.fixture(scope="session")
def database_url(django_db_setup) -> str:
    """The test database as a DATABASE_URL, for the processes the tests start (worker, servers)."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture(scope="session")
def worker_post_fan_out_chunk_size() -> int:
    """Followers per post fan-out task in the test worker: small, so a few hundred followers take several chunks."""
    return 50


@pytest.fixture(scope="session")
def celery_worker(database_url, worker_post_fan_out_chunk_size, django_db_blocker):
    """One real ``celery worker`` process for the whole session, on the test database and the broker."""
    app.control.purge()  # fails loudly when the broker is down
    env = os.environ | {
        "DATABASE_URL": database_url,
        "DEBUG": "1",
        "POST_FAN_OUT_CHUNK_SIZE": str(worker_post_fan_out_chunk_size),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "video_platform", "worker", "--concurrency", "2",
         "--loglevel", "INFO", "--without-gossip", "--without-mingle", "-n", f"test-{os.getpid()}@%h"],
        cwd=settings.BASE_DIR, env=env, stdout=_log_file("test-worker.log"), stderr=subprocess.STDOUT,
    )  # fmt: skip  # a command line, one flag and its value together
    yield worker
    process_stop(worker)


@pytest.fixture(scope="session")
def asgi_process(database_url):
    """``with asgi_process(log_name, **environment) as url``: the app under uvicorn (ASGI), served as
    ``make demo`` and the image serve it, on the test database, for as long as the block lasts."""

    @contextmanager
    def serve(log_name: str, **environment: str) -> Iterator[str]:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = os.environ | {
            "DATABASE_URL": database_url,
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "asgi-test-only-not-a-secret",
            **environment,
        }
        server = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--log-level", "warning"],
            cwd=settings.BASE_DIR, env=env, stdout=_log_file(log_name), stderr=subprocess.STDOUT,
        )  # fmt: skip  # a command line, one flag and its value together
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/schema/", timeout=2).close()
                break
            except OSError as error:
                if server.poll() is not None or time.monotonic() > deadline:
                    server.kill()
                    raise RuntimeError(
                        f"uvicorn did not come up on {url} (exit code {server.poll()}); see var/{log_name}"
                    ) from error
                time.sleep(0.1)
        try:
            yield url
        finally:
            process_stop(server)

    return serve


@pytest.fixture(scope="session")
def asgi_server(asgi_process, django_db_blocker):
    """Where open SSE streams are read: pytest-django's ``live_server`` is a threaded WSGI server, under
    which Django would consume an endless async stream before sending any of it."""
    # A keep-alive every second, so a test sees one without waiting 15 s.
    with asgi_process("test-web.log", DEBUG="1", INBOX_STREAM_KEEPALIVE_SECONDS="1") as url:
        yield url


class InProcessDelivery:
    """What the worker does, done in this process. ``deliver(event)`` fans out one event (or event id), its
    post chunks included, and answers it re-read; ``deliver()`` does so for every pending event, oldest first.

    Tests on pytest-django's ``db`` never commit, so nothing is sent: they call ``deliver`` where the worker
    would have run. Tests of tools that send and then wait (scenarios, simulate) run the tasks as they are
    sent instead, ``with deliver.as_sent():``.
    """

    def __call__(self, event: Event | int | None = None) -> Event | None:
        if event is None:
            pending = Event.objects.filter(status=EventStatus.PENDING).order_by("pk").values_list("pk", flat=True)
            for event_id in pending:
                self._deliver(event_id)
            return None
        event_id = event if isinstance(event, int) else event.pk
        self._deliver(event_id)
        return Event.objects.get(pk=event_id)

    @staticmethod
    def _deliver(event_id: int) -> None:
        fan_out.event_deliver(event_id=event_id)
        for index in range(len(Event.objects.get(pk=event_id).chunk_bounds or ())):
            fan_out.post_chunk_deliver(event_id=event_id, index=index)

    @contextmanager
    def as_sent(self) -> Iterator[None]:
        """Tasks sent inside the block run here, at once, under this test's settings (which the session worker
        cannot have: production batching, say). The inbox's one way of sending (``dispatch.task_send``) runs
        each task in this process instead of queueing it; Celery's own configuration is left alone."""

        def run_here(task, *args, **options) -> bool:
            task.apply(args, throw=True)
            return True

        with mock.patch.object(dispatch, "task_send", run_here):
            yield


@pytest.fixture
def deliver(request) -> InProcessDelivery:
    """Delivery in this process, for unit tests. Integration tests use ``celery_worker``, a real worker
    process; the two cannot be mixed in one test."""
    if "celery_worker" in request.fixturenames:
        raise pytest.UsageError("deliver is for unit tests: it cannot run beside celery_worker")
    return InProcessDelivery()


@pytest.fixture
def make_user(db):
    return UserFactory.create


@pytest.fixture
def creator(db):
    return UserFactory.create(username="cara_creator")


@pytest.fixture
def video(creator):
    return VideoFactory.create(creator=creator)
