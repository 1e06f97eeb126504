"""Schemathesis over every operation of a live server (uvicorn) with a real worker, as a token user."""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token

from inbox.delivery import events_wait_delivered
from inbox.models import Event
from video_platform.models import Follow

from .conftest import ROOT, _database_url
from .factories import UserFactory, VideoFactory

pytestmark = pytest.mark.django_db(transaction=True)

# Bounded: about a minute here; raise it for a deeper local run (FUZZ_MAX_EXAMPLES=200).
MAX_EXAMPLES = os.environ.get("FUZZ_MAX_EXAMPLES", "20")
SEED = os.environ.get("FUZZ_SEED", "1")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def live_server_url(django_db_setup, django_db_blocker):
    """The project served by uvicorn on the test database, as `make demo` serves it."""
    from django.conf import settings

    port = _free_port()
    env = os.environ | {"DATABASE_URL": _database_url(settings.DATABASES["default"]), "DEBUG": "0"}
    env.setdefault("SECRET_KEY", "fuzz-test-only-not-a-secret")
    log = open(ROOT / "var" / "test-fuzz-server.log", "w") if (ROOT / "var").is_dir() else subprocess.DEVNULL
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "video_platform.asgi:application",
         "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/schema/", timeout=2).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError(f"uvicorn did not come up on {url}")
            time.sleep(0.2)
    yield url
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


def test_schemathesis_default_checks_pass_on_every_operation(celery_worker, live_server_url, tmp_path):
    fuzzer, others = UserFactory.create(username="fuzzer"), UserFactory.create_batch(2)
    for other in others:
        Follow.objects.create(follower=other, followee=fuzzer)
        VideoFactory.create(creator=other)
    VideoFactory.create(creator=fuzzer)
    token = Token.objects.create(user=fuzzer)
    result = subprocess.run(
        [str(Path(sys.executable).parent / "schemathesis"), "run", f"{live_server_url}/api/schema/",
         "--header", f"Authorization: Token {token.key}", "--max-examples", MAX_EXAMPLES, "--seed", SEED,
         "--report", "junit", "--report-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
    selected, total = map(int, re.search(r"Selected: (\d+)/(\d+)", result.stdout).groups())
    tested = int(re.search(r"Tested: (\d+)", result.stdout).group(1))
    assert tested == selected == total - 1  # all but the endless stream (schemathesis.toml)
    # Everything the fuzzing set off was delivered by the worker, and nothing failed there either.
    statuses = events_wait_delivered(Event.objects.all(), timeout=120)
    assert statuses["failed"] == 0, Event.objects.filter(status="failed").values_list("kind", "error")[:5]
