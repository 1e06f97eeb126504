"""Delivery status tells the truth under share batching: `held` with `release_at` while a creator's anonymous
notification waits for its window, `done` only once every notification is visible, and
POST /api/qa/release-held/ to release them now (staff always, everyone in DEMO_MODE, 404 otherwise)."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from inbox import batching
from inbox.batching import batch_window_start

from .clients import api_client
from .factories import UserFactory

pytestmark = pytest.mark.django_db

WINDOW = 600


@pytest.fixture
def share(deliver):
    """``share(user, video, **data)``: a share through the API, delivered; answers its event id."""

    def share_delivered(user, video, **data) -> int:
        response = api_client(user).post(f"/api/videos/{video.pk}/shares/", data, format="json")
        assert response.status_code == 201, response.content
        event_id = response.json()["event_id"]
        deliver(event_id)
        return event_id

    return share_delivered


def _event(user, event_id) -> dict:
    return api_client(user).get(f"/api/events/{event_id}/").json()


@override_settings(SHARE_NOTIFICATION_BATCH_SECONDS=WINDOW)
def test_a_held_link_share_answers_held_with_its_release_time_then_done_after_release_held(creator, video, share):
    sharer, staff = UserFactory.create(), UserFactory.create(is_staff=True)
    before = timezone.now()
    event_id = share(sharer, video, channel="link")

    held = _event(sharer, event_id)
    assert held["status"] == "held" and held["done_at"] is None
    assert parse_datetime(held["release_at"]) == batch_window_start(before, WINDOW) + timedelta(seconds=WINDOW)
    assert api_client(creator).get("/api/inbox/").json()["results"] == []

    response = api_client(staff).post("/api/qa/release-held/")
    assert (response.status_code, response.json()) == (200, {"released": 1})
    done = _event(sharer, event_id)
    assert (done["status"], done["release_at"]) == ("done", None) and done["done_at"]
    inbox = api_client(creator).get("/api/inbox/").json()["results"]
    assert [(n["type"], n["count"], n["actor"]) for n in inbox] == [("share", 1, None)]


@override_settings(SHARE_NOTIFICATION_BATCH_SECONDS=WINDOW)
def test_a_tag_share_tagging_the_creator_is_done_at_once(creator, video, share):
    sharer = UserFactory.create()
    event = _event(sharer, share(sharer, video, channel="tag", tagged=[creator.username]))
    assert (event["status"], event["release_at"]) == ("done", None)


@override_settings(SHARE_NOTIFICATION_BATCH_SECONDS=WINDOW)
def test_an_event_is_done_only_when_the_window_that_holds_it_is_released(creator, video, share):
    sharer = UserFactory.create()
    event_id = share(sharer, video, channel="link")
    release_at = parse_datetime(_event(sharer, event_id)["release_at"])

    batching.held_shares_release(now=release_at - timedelta(seconds=1))
    assert _event(sharer, event_id)["status"] == "held"
    batching.held_shares_release(now=release_at)
    assert _event(sharer, event_id)["status"] == "done"


@override_settings(SHARE_NOTIFICATION_BATCH_SECONDS=WINDOW, DEMO_MODE=False)
def test_release_held_is_a_json_404_for_a_user_who_is_not_staff_outside_demo_mode(creator, video, share):
    sharer = UserFactory.create()
    event_id = share(sharer, video, channel="link")
    response = api_client(sharer).post("/api/qa/release-held/")
    assert (response.status_code, response["Content-Type"]) == (404, "application/json")
    assert _event(sharer, event_id)["status"] == "held"


@override_settings(SHARE_NOTIFICATION_BATCH_SECONDS=WINDOW, DEMO_MODE=True)
def test_in_demo_mode_any_signed_in_user_may_release_held_shares(creator, video, share):
    sharer = UserFactory.create()
    event_id = share(sharer, video, channel="link")
    assert api_client(sharer).post("/api/qa/release-held/").json() == {"released": 1}
    assert _event(sharer, event_id)["status"] == "done"
