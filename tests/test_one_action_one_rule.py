"""One action, one rule: a video in a message is a share, follows notify once per pair, no self-actions,
and relationship writes answer 201 when they create the relationship and 200 when it already existed."""

import pytest

from video_platform.models import Block, Conversation, Event, Follow, Like, Message, Share, Video

from .clients import api_client
from .factories import UserFactory, VideoFactory
from .test_api import footprint, inbox

pytestmark = pytest.mark.django_db


def post(user, url, data=None):
    return api_client(user).post(url, data, format="json")


@pytest.fixture
def ana(db):
    return UserFactory.create(username="ana")


@pytest.fixture
def ben(db):
    return UserFactory.create(username="ben")


@pytest.fixture
def cara(db):
    return UserFactory.create(username="cara")


@pytest.fixture
def caras_video(cara):
    return VideoFactory.create(creator=cara, caption="Sunrise timelapse")


def conversation_of(creator, *others) -> int:
    response = post(creator, "/api/conversations/", {"participants": [o.username for o in others]})
    assert response.status_code in (200, 201), response.content
    return response.json()["id"]


# A message with a video is a share


def test_a_video_sent_in_a_chat_counts_once_and_tells_the_creator_anonymously(ana, ben, cara, caras_video, deliver):
    chat = conversation_of(ana, ben)
    response = post(ana, f"/api/conversations/{chat}/messages/", {"text": "look", "video": caras_video.pk})
    assert response.status_code == 201
    event = Event.objects.get(pk=response.json()["event_id"])
    assert (event.kind, event.payload["channel"], event.payload["recipients"]) == ("share", "dm", [ben.pk])
    deliver()
    assert Video.objects.get(pk=caras_video.pk).share_count == 1
    (group,) = inbox(cara)
    assert (group["type"], group["actor"], group["text"]) == ("share", None, "Your video was shared once")
    (message,) = inbox(ben)
    assert (message["type"], message["text"], message["conversation"]) == (
        "message",
        "@ana sent you a message: look",
        chat,
    )


def test_a_video_sent_in_a_chat_is_one_message_in_that_chat_and_one_share(ana, ben, caras_video):
    chat = conversation_of(ana, ben)
    post(ana, f"/api/conversations/{chat}/messages/", {"text": "", "video": caras_video.pk})
    share = Share.objects.get()
    assert (share.channel, share.sharer, list(share.recipients.all())) == ("dm", ana, [ben])
    assert list(Message.objects.values_list("conversation_id", "share_id", "video_id")) == [
        (chat, share.pk, caras_video.pk)
    ]


def test_a_video_sent_to_a_group_chat_reaches_every_other_participant_in_that_chat(
    ana, ben, cara, caras_video, deliver
):
    dev = UserFactory.create(username="dev")
    chat = conversation_of(ana, ben, dev)
    post(ana, f"/api/conversations/{chat}/messages/", {"text": "", "video": caras_video.pk})
    deliver()
    for person in (ben, dev):
        (message,) = inbox(person)
        assert (message["type"], message["conversation"], message["actor"]["username"]) == ("message", chat, "ana")
    assert Conversation.objects.count() == 1
    assert [n["type"] for n in inbox(cara)] == ["share"]


def test_a_video_sent_to_its_creator_in_a_chat_is_a_message_to_them_not_an_anonymous_share(
    ana, cara, caras_video, deliver
):
    chat = conversation_of(ana, cara)
    post(ana, f"/api/conversations/{chat}/messages/", {"text": "yours!", "video": caras_video.pk})
    deliver()
    (message,) = inbox(cara)
    assert (message["type"], message["text"]) == ("message", "@ana sent you a message: yours!")
    assert Video.objects.get(pk=caras_video.pk).share_count == 1


def test_a_chat_message_and_a_dm_share_of_the_same_video_are_the_same_action(ana, ben, cara, caras_video, deliver):
    chat = conversation_of(ana, ben)
    post(ana, f"/api/conversations/{chat}/messages/", {"text": "", "video": caras_video.pk})
    post(ana, f"/api/videos/{caras_video.pk}/shares/", {"channel": "dm", "recipients": ["ben"]})
    deliver()
    assert Video.objects.get(pk=caras_video.pk).share_count == 2
    assert [(e.kind, e.payload["channel"]) for e in Event.objects.order_by("pk")] == [("share", "dm")] * 2
    (group,) = inbox(cara)
    assert (group["count"], group["text"]) == (2, "Your video was shared 2 times")


def test_a_text_message_is_not_a_share(ana, ben):
    chat = conversation_of(ana, ben)
    response = post(ana, f"/api/conversations/{chat}/messages/", {"text": "hi"})
    assert Event.objects.get(pk=response.json()["event_id"]).kind == "message"
    assert not Share.objects.exists()


# Follow spam


def test_only_the_first_follow_of_a_pair_notifies(ana, ben, deliver):
    first = post(ana, "/api/users/ben/follow/")
    cycles = []
    for _ in range(4):
        assert api_client(ana).delete("/api/users/ben/follow/").status_code == 204
        again = post(ana, "/api/users/ben/follow/")
        cycles.append((again.status_code, again.json()["event_id"]))
    assert (first.status_code, first.json()["event_id"]) == (201, Event.objects.get(kind="follow").pk)
    assert cycles == [(201, None)] * 4
    deliver()
    assert [n["text"] for n in inbox(ben)] == ["@ana started following you"]
    assert Follow.objects.filter(follower=ana, followee=ben).exists()


def test_a_follow_back_is_a_different_pair_and_notifies(ana, ben, deliver):
    post(ana, "/api/users/ben/follow/")
    post(ben, "/api/users/ana/follow/")
    deliver()
    assert [n["text"] for n in inbox(ana)] == ["@ben started following you"]
    assert [n["text"] for n in inbox(ben)] == ["@ana started following you"]


# Self-actions: one rule, 400 with a detail


@pytest.mark.parametrize(
    ("action", "detail"),
    [
        ("follow", "You can't follow yourself."),
        ("block", "You can't block yourself."),
        ("tag", "You can't tag yourself."),
        ("dm", "You can't send a video to yourself."),
    ],
)
def test_every_action_aimed_at_yourself_is_a_400_that_changes_nothing(ana, ben, caras_video, action, detail):
    requests = {
        "follow": ("/api/users/ana/follow/", None),
        "block": ("/api/users/ana/block/", None),
        "tag": (f"/api/videos/{caras_video.pk}/shares/", {"channel": "tag", "tagged": ["ben", "ana"]}),
        "dm": (f"/api/videos/{caras_video.pk}/shares/", {"channel": "dm", "recipients": ["ana"]}),
    }
    url, data = requests[action]
    before = footprint(caras_video)
    response = post(ana, url, data)
    assert (response.status_code, response.json()) == (400, {"detail": detail})
    assert footprint(caras_video) == before


# Relationship writes: 201 when created, 200 when it already existed


def test_blocking_again_answers_200(ana, ben):
    first = post(ana, "/api/users/ben/block/")
    again = post(ana, "/api/users/ben/block/")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == {"blocked": True}
    assert Block.objects.count() == 1


def test_a_like_after_an_unlike_creates_a_like_and_answers_201_without_a_new_notification(ana, caras_video):
    url = f"/api/videos/{caras_video.pk}/likes/"
    first = post(ana, url)
    api_client(ana).delete(url)
    again = post(ana, url)
    repeated = post(ana, url)
    assert [(r.status_code, r.json()["counts"]["likes"]) for r in (first, again, repeated)] == [
        (201, 1),
        (201, 1),
        (200, 1),
    ]
    assert (again.json()["event_id"], repeated.json()["event_id"]) == (None, None)
    assert Like.objects.count() == 1
    assert Event.objects.filter(kind="like").count() == 1


def test_a_dm_share_never_makes_a_conversation_updated_before_it_was_created(ana, ben, caras_video):
    for _ in range(3):
        post(ana, f"/api/videos/{caras_video.pk}/shares/", {"channel": "dm", "recipients": ["ben"]})
    (conversation,) = api_client(ben).get("/api/conversations/").json()["results"]
    assert conversation["updated_at"] >= conversation["created_at"]
    stored = Conversation.objects.get()
    assert stored.updated_at >= stored.created_at
    assert stored.updated_at == Message.objects.latest("created_at").created_at


# A like group counts who liked while it was open; the video counts likes now


def test_an_unlike_does_not_take_back_a_delivered_like_and_the_contract_says_what_count_counts(
    cara, caras_video, deliver
):
    ana, ben, dev = (UserFactory.create(username=name) for name in ("ana", "ben", "dev"))
    for liker in (ana, ben, dev):
        post(liker, f"/api/videos/{caras_video.pk}/likes/")
    deliver()
    api_client(ben).delete(f"/api/videos/{caras_video.pk}/likes/")
    (group,) = inbox(cara)
    assert (group["count"], group["text"]) == (3, "@dev and 2 others liked your video")
    assert api_client(cara).get(f"/api/videos/{caras_video.pk}/").json()["counts"]["likes"] == 2
    schema = api_client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    count = schema["components"]["schemas"]["Notification"]["properties"]["count"]
    assert "not the video's current count" in count["description"]
    assert "unlike" in count["description"]
