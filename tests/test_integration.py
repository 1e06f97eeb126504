"""End to end through the API with a real `celery worker` process (PostgreSQL and Redis when
DATABASE_URL/REDIS_URL are set): every row of the privacy table, searched for traces of the sharer."""

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count, F, Max
from django.utils import timezone

from inbox.models import EventChunk, Notification
from inbox.tasks import fan_out_event, redispatch_pending_events
from video_platform import services
from video_platform.actions import ActionKind, RecordedAction
from video_platform.models import Event, Follow, Profile, Share, Video

from .clients import api_client
from .factories import UserFactory, VideoFactory
from .waiting import wait_for_event

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_worker")]
User = get_user_model()


def distinctive_user(username: str, display_name: str):
    """A user whose id has more digits than anything else in a response (timestamps' microseconds
    included), so finding it in a response's text means the id leaked."""
    highest = User.objects.aggregate(highest=Max("id"))["highest"] or 0
    return UserFactory.create(id=max(highest, 10_000_000) + 1000, username=username, display_name=display_name)


@pytest.fixture
def sharer(db):
    return distinctive_user("zq_sharer", "Zora Quillfeather")


@pytest.fixture
def creator(db):
    return UserFactory.create(username="cara", display_name="Cara Creator")


@pytest.fixture
def video(creator):
    return VideoFactory.create(creator=creator)


@pytest.fixture
def ana(db):
    return UserFactory.create(username="ana", display_name="Ana Alvarez")


def act(user, url: str, data: dict | None = None) -> dict:
    """Do something through the API and wait until its event is delivered."""
    response = api_client(user).post(url, data or {}, format="json")
    assert response.status_code in (200, 201), response.content
    body = response.json()
    assert wait_for_event(api_client(user), body["event_id"])["status"] == "done"
    return body


def everything_seen_by(user, video=None) -> str:
    """Headers and body of every response the user can get about their inbox, profile, chats and the video."""
    client = api_client(user)
    urls = [
        "/api/inbox/",
        "/api/inbox/unread-count/",
        "/api/conversations/",
        "/api/me/",
        f"/api/users/{user.username}/",
    ]
    urls += [f"/api/inbox/{n.pk}/" for n in Notification.objects.filter(recipient=user)]
    if video is not None:
        urls += [f"/api/videos/{video.pk}/", f"/api/videos/{video.pk}/comments/", "/api/videos/"]
    texts = []
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.content)
        texts.append(str(dict(response.items())) + response.content.decode())
    return "\n".join(texts)


def traces_of(user, text: str) -> list[str]:
    found = [needle for needle in (user.username, user.profile.display_name) if needle in text]
    if re.search(rf"(?<!\d){user.pk}(?!\d)", text):
        found.append(f"id {user.pk}")
    return found


def inbox_types(user) -> list[tuple]:
    results = api_client(user).get("/api/inbox/").json()["results"]
    return [(n["type"], n["actor"]["username"] if n["actor"] else None, n["count"]) for n in results]


def test_link_share_reaches_the_creator_without_a_trace_of_the_sharer(video, sharer):
    act(sharer, f"/api/videos/{video.pk}/shares/", {"channel": "link", "message": "from zq with love"})
    assert inbox_types(video.creator) == [("share", None, 1)]
    assert traces_of(sharer, everything_seen_by(video.creator, video)) == []


def test_tag_share_shows_the_sharer_to_the_tagged_user(video, sharer, ana):
    act(sharer, f"/api/videos/{video.pk}/shares/", {"channel": "tag", "tagged": ["ana"]})
    assert inbox_types(ana) == [("tag", "zq_sharer", 1)]
    assert traces_of(sharer, everything_seen_by(ana)) == ["zq_sharer", "Zora Quillfeather"]


def test_tag_share_tells_an_untagged_creator_without_a_trace_of_the_sharer(video, sharer, ana):
    act(sharer, f"/api/videos/{video.pk}/shares/", {"channel": "tag", "tagged": ["ana"], "message": "zq_sharer"})
    assert inbox_types(video.creator) == [("share", None, 1)]
    assert traces_of(sharer, everything_seen_by(video.creator, video)) == []


def test_tag_share_that_tags_the_creator_shows_them_the_sharer_once(video, sharer, ana):
    act(sharer, f"/api/videos/{video.pk}/shares/", {"channel": "tag", "tagged": ["ana", "cara"]})
    assert inbox_types(video.creator) == [("tag", "zq_sharer", 1)]


def test_dm_share_shows_the_sharer_to_the_recipient_in_inbox_and_chat(video, sharer, ana):
    act(sharer, f"/api/videos/{video.pk}/shares/", {"channel": "dm", "recipients": ["ana"], "message": "look!"})
    assert inbox_types(ana) == [("message", "zq_sharer", 1)]
    (conversation,) = api_client(ana).get("/api/conversations/").json()["results"]
    messages = api_client(ana).get(f"/api/conversations/{conversation['id']}/messages/").json()["results"]
    assert [(m["sender"]["username"], m["text"], m["video_detail"]["id"]) for m in messages] == [
        ("zq_sharer", "look!", video.pk)
    ]


def test_dm_share_tells_a_creator_not_among_the_recipients_without_a_trace_of_the_sharer(video, sharer, ana):
    act(sharer, f"/api/videos/{video.pk}/shares/", {"channel": "dm", "recipients": ["ana"], "message": "zq here"})
    assert inbox_types(video.creator) == [("share", None, 1)]
    assert traces_of(sharer, everything_seen_by(video.creator, video)) == []


def test_dm_share_to_the_creator_shows_them_the_sharer_once(video, sharer):
    act(sharer, f"/api/videos/{video.pk}/shares/", {"channel": "dm", "recipients": ["cara"]})
    assert inbox_types(video.creator) == [("message", "zq_sharer", 1)]


def test_shares_on_all_three_channels_make_one_anonymous_group_equal_to_the_share_count(video, sharer, ana):
    act(sharer, f"/api/videos/{video.pk}/shares/", {"channel": "link"})
    act(sharer, f"/api/videos/{video.pk}/shares/", {"channel": "tag", "tagged": ["ana"]})
    act(sharer, f"/api/videos/{video.pk}/shares/", {"channel": "dm", "recipients": ["ana"]})
    assert inbox_types(video.creator) == [("share", None, 3)]
    assert api_client(ana).get(f"/api/videos/{video.pk}/").json()["counts"]["shares"] == 3
    assert traces_of(sharer, everything_seen_by(video.creator, video)) == []


@pytest.mark.parametrize(
    "share", [{"channel": "link"}, {"channel": "tag", "tagged": ["ana"]}, {"channel": "dm", "recipients": ["ana"]}]
)
def test_a_blocked_sharers_share_counts_in_the_creators_anonymous_group(video, sharer, ana, share):
    api_client(video.creator).post(f"/api/users/{sharer.username}/block/")
    act(ana, f"/api/videos/{video.pk}/shares/", {"channel": "link"})
    act(sharer, f"/api/videos/{video.pk}/shares/", share)
    assert inbox_types(video.creator) == [("share", None, 2)]
    assert Video.objects.get(pk=video.pk).share_count == 2
    assert traces_of(sharer, everything_seen_by(video.creator, video)) == []


def test_sharing_your_own_video_notifies_nobody(video):
    body = act(video.creator, f"/api/videos/{video.pk}/shares/", {"channel": "link"})
    assert body["share_count"] == 1
    assert inbox_types(video.creator) == []


def test_dm_text_message_shows_the_sender_to_the_other_participant(sharer, ana):
    conversation = api_client(sharer).post("/api/conversations/", {"participants": ["ana"]}, format="json").json()
    act(sharer, f"/api/conversations/{conversation['id']}/messages/", {"text": "hi ana"})
    assert inbox_types(ana) == [("message", "zq_sharer", 1)]


def test_follow_shows_the_follower(sharer, ana):
    act(sharer, "/api/users/ana/follow/")
    assert inbox_types(ana) == [("follow", "zq_sharer", 1)]


def test_likes_group_and_show_the_latest_liker(video, sharer, ana):
    act(ana, f"/api/videos/{video.pk}/likes/")
    act(sharer, f"/api/videos/{video.pk}/likes/")
    assert inbox_types(video.creator) == [("like", "zq_sharer", 2)]


def test_comment_shows_the_commenter(video, sharer):
    act(sharer, f"/api/videos/{video.pk}/comments/", {"text": "lovely"})
    assert inbox_types(video.creator) == [("comment", "zq_sharer", 1)]


def test_mention_in_a_comment_shows_the_author_to_the_mentioned_user(video, sharer, ana):
    act(sharer, f"/api/videos/{video.pk}/comments/", {"text": "@ana look"})
    assert inbox_types(ana) == [("mention", "zq_sharer", 1)]


def test_mention_in_a_caption_shows_the_creator_to_the_mentioned_user(sharer, ana):
    act(sharer, "/api/videos/", {"caption": "beach day with @ana"})
    assert inbox_types(ana) == [("mention", "zq_sharer", 1)]


def test_new_video_notifies_a_follower_with_the_creator_shown(sharer, ana):
    api_client(ana).post(f"/api/users/{sharer.username}/follow/")
    act(sharer, "/api/videos/", {"caption": "fresh"})
    assert inbox_types(ana) == [("post", "zq_sharer", 1)]


def test_a_blocker_gets_nothing_from_the_blocked_user_but_the_anonymous_share(video, sharer):
    api_client(video.creator).post(f"/api/users/{sharer.username}/block/")
    api_client(video.creator).post(f"/api/users/{sharer.username}/follow/")
    act(sharer, f"/api/users/{video.creator.username}/follow/")
    act(sharer, f"/api/videos/{video.pk}/likes/")
    act(sharer, f"/api/videos/{video.pk}/comments/", {"text": "hi"})
    act(sharer, "/api/videos/", {"caption": "my own"})
    act(sharer, f"/api/videos/{video.pk}/shares/", {"channel": "link"})
    assert inbox_types(video.creator) == [("share", None, 1)]
    # Blocking hides nothing else: the comment and the video stay public, so only the inbox is searched.
    assert traces_of(sharer, everything_seen_by(video.creator)) == []


def _in_threads(users, work) -> list:
    def run(user):
        try:
            return work(user)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(run, users))


def _bulk_users(prefix: str, n: int) -> list:
    users = User.objects.bulk_create(User(username=f"{prefix}{i}") for i in range(n))
    if not all(u.pk for u in users):
        users = list(User.objects.filter(username__startswith=prefix).order_by("pk"))
    Profile.objects.bulk_create(Profile(user=u, display_name=u.username) for u in users)
    return users


def test_concurrent_shares_by_many_users_make_one_group_with_an_exact_count(video):
    sharers = _bulk_users("fan", 40)

    def share(user):
        response = api_client(user).post(f"/api/videos/{video.pk}/shares/", {"channel": "link"}, format="json")
        assert response.status_code == 201, response.content
        return response.json()["event_id"]

    for user, event_id in zip(sharers, _in_threads(sharers, share), strict=True):
        assert wait_for_event(api_client(user), event_id)["status"] == "done"
    groups = api_client(video.creator).get("/api/inbox/?category=shares&unread=1").json()["results"]
    assert [(g["type"], g["count"]) for g in groups] == [("share", 40)]
    assert Video.objects.get(pk=video.pk).share_count == 40


def test_concurrent_likes_by_many_users_make_one_group_with_an_exact_count(video):
    likers = _bulk_users("liker", 40)

    def like(user):
        response = api_client(user).post(f"/api/videos/{video.pk}/likes/", format="json")
        assert response.status_code == 201, response.content
        return response.json()["event_id"]

    for user, event_id in zip(likers, _in_threads(likers, like), strict=True):
        assert wait_for_event(api_client(user), event_id)["status"] == "done"
    groups = api_client(video.creator).get("/api/inbox/?category=likes&unread=1").json()["results"]
    assert [(g["type"], g["count"]) for g in groups] == [("like", 40)]
    assert Video.objects.get(pk=video.pk).like_count == 40


def test_an_event_sent_to_the_workers_several_times_is_applied_once(video, sharer):
    body = api_client(sharer).post(f"/api/videos/{video.pk}/shares/", {"channel": "link"}, format="json").json()
    for _ in range(4):
        fan_out_event.delay(body["event_id"])
    assert wait_for_event(api_client(sharer), body["event_id"])["notifications"] == 1
    follow_up = act(UserFactory.create(), f"/api/videos/{video.pk}/shares/", {"channel": "link"})
    assert follow_up["share_count"] == 2
    assert inbox_types(video.creator) == [("share", None, 2)]


def test_a_post_to_hundreds_of_followers_reaches_each_exactly_once_in_chunks(sharer, worker_post_fan_out_chunk_size):
    followers = _bulk_users("follower", 320)
    Follow.objects.bulk_create(Follow(follower=f, followee=sharer) for f in followers)
    body = act(sharer, "/api/videos/", {"caption": "to all of you"})
    event = Event.objects.get(pk=body["event_id"])
    chunks = -(-len(followers) // worker_post_fan_out_chunk_size)
    assert (event.notification_count, len(event.chunk_bounds)) == (320, chunks)
    assert EventChunk.objects.filter(event=event).count() == chunks
    per_follower = Notification.objects.filter(type="post").values("recipient").annotate(n=Count("id"))
    assert sorted(row["recipient"] for row in per_follower) == sorted(f.pk for f in followers)
    assert {row["n"] for row in per_follower} == {1}
    assert inbox_types(followers[-1]) == [("post", "zq_sharer", 1)]


def test_an_event_whose_dispatch_was_lost_is_delivered_by_the_sweeper(video, sharer):
    with transaction.atomic():
        share = Share.objects.create(video=video, sharer=sharer, channel="link")
        Video.objects.filter(pk=video.pk).update(share_count=F("share_count") + 1)
        # Written without its on-commit task, as if the broker had been down.
        action = RecordedAction(
            kind=ActionKind.SHARE,
            actor_id=sharer.pk,
            video_id=video.pk,
            creator_id=video.creator_id,
            channel="link",
            share_id=share.pk,
        )
        event = Event.objects.create(kind="share", actor=sharer, video=video, payload=action.to_payload())
    Event.objects.filter(pk=event.pk).update(dispatched_at=timezone.now() - timedelta(hours=1))
    redispatch_pending_events.delay()
    assert wait_for_event(api_client(sharer), event.pk)["status"] == "done"
    assert Event.objects.get(pk=event.pk).attempts == 2
    assert inbox_types(video.creator) == [("share", None, 1)]


def test_an_action_whose_transaction_rolls_back_notifies_nobody(video, sharer, ana):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.video_share(sharer=sharer, video=video, channel="tag", tagged=[ana])
        raise RuntimeError("the request failed after the share")
    act(UserFactory.create(), f"/api/videos/{video.pk}/shares/", {"channel": "link"})
    assert inbox_types(video.creator) == [("share", None, 1)]
    assert inbox_types(ana) == []
    assert Event.objects.count() == 1 and Share.objects.count() == 1
