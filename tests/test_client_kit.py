"""The QA client kit (qa/client) against the app under uvicorn and a real worker, so the kit stays correct:
its client, its waits, its pytest fixtures and its example flow."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token
from shareloop_qa import ApiError, ShareloopClient, wait_for, wait_until_quiet

from .factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
KIT = settings.BASE_DIR / "qa" / "client"


@pytest.fixture
def shareloop_url(asgi_server, celery_worker):
    return asgi_server


@pytest.fixture
def staff(shareloop_url) -> ShareloopClient:
    user = UserFactory.create(is_staff=True)
    return ShareloopClient(shareloop_url, Token.objects.create(user=user).key, username=user.username)


def test_the_kit_waits_for_delivery_and_reads_the_inbox_as_the_contract_says(user_factory, video_factory, staff):
    cara, ana = user_factory("cara"), user_factory("ana")
    video = video_factory(cara, "Sunrise timelapse")
    ana.like(video["id"])
    ana.share(video["id"], "link")
    ana.comment(video["id"], "nice")

    events = wait_until_quiet(ana, release_held=staff)
    assert [e["status"] for e in events] == ["done"] * 3
    types = sorted(n["type"] for n in cara.inbox())
    assert types == ["comment", "like", "share"]
    assert [n["actor"] for n in cara.inbox(category="shares")] == [None]
    assert cara.unread_count()["total"] == 3
    assert cara.read_all()["total"] == 0


def test_the_kit_raises_api_errors_with_the_status_and_detail(user_factory, shareloop_url):
    ana = user_factory("ana")
    with pytest.raises(ApiError) as missing:
        ana.event(10**9)
    assert missing.value.status == 404
    with pytest.raises(ApiError) as refused:
        ana.release_held()
    assert refused.value.status == 404  # not staff, not DEMO_MODE


def test_wait_for_releases_a_held_event_through_a_staff_client(user_factory, staff, shareloop_url):
    ana = user_factory("ana")
    event = wait_for(ana, ana.post_video("a video")["event_id"], release_held=staff)
    assert event["status"] == "done" and "release_at" in event


def test_the_example_flow_passes_through_the_pytest_plugin(shareloop_url, staff):
    environment = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    environment |= {"PYTHONPATH": str(KIT), "SHARELOOP_STAFF_TOKEN": staff.session.headers["Authorization"][6:]}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:django", "-p", "no:cacheprovider",
         "-p", "shareloop_qa.pytest_plugin", "--shareloop-url", shareloop_url, "examples/"],
        cwd=KIT, env=environment, capture_output=True, text=True, timeout=300,
    )  # fmt: skip  # a command line, one flag and its value together
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_the_kit_reads_the_live_stream_with_the_share_anonymous(user_factory, video_factory, staff):
    cara, ana = user_factory("cara"), user_factory("ana")
    video = video_factory(cara)
    messages = cara.stream()  # opens with the current unread count, then carries what happens next
    opening = next(messages)
    assert (opening["event"], opening["data"]["total"]) == ("unread_count", 0)

    wait_for(ana, ana.share(video["id"], "link"), release_held=staff)

    first, second = next(messages), next(messages)
    messages.close()
    assert (first["event"], first["data"]["type"], first["data"]["actor"]) == ("notification", "share", None)
    assert (second["event"], second["data"]["total"]) == ("unread_count", 1)
