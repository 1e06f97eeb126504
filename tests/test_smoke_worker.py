import pytest

from .clients import api_client
from .factories import UserFactory, VideoFactory
from .waiting import wait_for_event

pytestmark = pytest.mark.django_db(transaction=True)


def test_link_share_reaches_creator_through_a_real_worker(celery_worker):
    creator = UserFactory.create(username="cara")
    sharer = UserFactory.create(username="sam")
    video = VideoFactory.create(creator=creator)
    response = api_client(sharer).post(f"/api/videos/{video.pk}/shares/", {"channel": "link"}, format="json")
    assert response.status_code == 201, response.content
    event = wait_for_event(api_client(sharer), response.json()["event_id"])
    assert event["status"] == "done"
    inbox = api_client(creator).get("/api/inbox/").json()["results"]
    assert [(n["type"], n["count"], n["actor"]) for n in inbox] == [("share", 1, None)]
