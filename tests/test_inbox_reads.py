"""The inbox page's fast serialisation says exactly what the generic serializer says, privacy included."""

import pytest
from rest_framework import serializers

from inbox.api import NotificationSerializer
from inbox.models import Notification
from video_platform import services

from .clients import api_client
from .factories import UserFactory, VideoFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mixed_inbox(deliver):
    creator, sharer, tagger, friend = (UserFactory.create() for _ in range(4))
    video = VideoFactory.create(creator=creator)
    deliver(services.video_share(sharer=sharer, video=video, channel="link").event)
    deliver(services.video_share(sharer=tagger, video=video, channel="tag", tagged=[creator, friend]).event)
    deliver(services.video_share(sharer=sharer, video=video, channel="dm", recipients=[creator], message="see").event)
    deliver(services.comment_create(author=friend, video=video, text="so good").event)
    deliver(services.follow_create(follower=friend, followee=creator).event)
    deliver(services.like_create(user=friend, video=video).event)
    return creator, sharer, tagger, video


def test_inbox_page_equals_the_generic_model_serializer_output(mixed_inbox):
    creator = mixed_inbox[0]
    page = api_client(creator).get("/api/inbox/").json()["results"]
    generic = [
        serializers.ModelSerializer.to_representation(NotificationSerializer(), n)
        for n in Notification.objects.filter(recipient=creator).order_by("-updated_at", "-id")
    ]
    assert len(page) == 6
    assert page == generic


def test_link_share_in_the_inbox_page_never_names_the_sharer(mixed_inbox):
    creator, sharer, tagger, video = mixed_inbox
    page = api_client(creator).get("/api/inbox/").json()["results"]
    share = next(n for n in page if n["type"] == "share")
    assert share["actor"] is None
    assert share["count"] == 1
    assert sharer.username not in str(share) and tagger.username not in str(share)
    assert share["text"] == "Your video was shared once"


def test_tagged_and_messaged_creator_sees_who_did_it(mixed_inbox):
    creator, sharer, tagger, _ = mixed_inbox
    page = api_client(creator).get("/api/inbox/").json()["results"]
    shown = {n["type"]: n["actor"]["username"] for n in page if n["actor"]}
    assert shown["tag"] == tagger.username
    assert shown["message"] == sharer.username


def test_detail_and_mark_read_answer_what_the_page_shows(mixed_inbox):
    creator, sharer, tagger, _ = mixed_inbox
    client = api_client(creator)
    page = client.get("/api/inbox/").json()["results"]
    for item in page:
        assert client.get(f"/api/inbox/{item['id']}/").json() == item
        assert client.post(f"/api/inbox/{item['id']}/read/").json() | {"unread": True} == item
    share = client.get(f"/api/inbox/{next(item['id'] for item in page if item['type'] == 'share')}/").json()
    assert share["actor"] is None
    assert sharer.username not in str(share) and tagger.username not in str(share)
    tag = client.get(f"/api/inbox/{next(item['id'] for item in page if item['type'] == 'tag')}/").json()
    assert tag["actor"]["username"] == tagger.username
