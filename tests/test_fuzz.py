"""Schemathesis over every operation of a live server (uvicorn) with a real worker, as a token user."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token

from qa.waiting import events_wait_delivered
from video_platform.models import Event, Follow

from .factories import UserFactory, VideoFactory

pytestmark = pytest.mark.django_db(transaction=True)

# Bounded: about a minute here; raise it for a deeper local run (FUZZ_MAX_EXAMPLES=200).
MAX_EXAMPLES = os.environ.get("FUZZ_MAX_EXAMPLES", "20")
SEED = os.environ.get("FUZZ_SEED", "1")


@pytest.fixture(scope="session")
def live_server_url(asgi_process, django_db_blocker):
    """The project served by uvicorn on the test database, without DEBUG as in production."""
    with asgi_process("test-fuzz-server.log", DEBUG="0") as url:
        yield url


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
        cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=600,
    )  # fmt: skip  # a command line, one flag and its value together
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
    selected, total = map(int, re.search(r"Selected: (\d+)/(\d+)", result.stdout).groups())
    tested = int(re.search(r"Tested: (\d+)", result.stdout).group(1))
    assert tested == selected == total - 1  # all but the endless stream (schemathesis.toml)
    # Everything the fuzzing set off was delivered by the worker, and nothing failed there either.
    statuses = events_wait_delivered(Event.objects.all(), timeout=120)
    assert statuses["failed"] == 0, Event.objects.filter(status="failed").values_list("kind", "error")[:5]
