"""The per-user stream log behind /api/inbox/stream/, written with the notifications it announces."""

import json
import threading
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from inbox import fan_out, live, reading, selectors, stream_log
from inbox.models import InboxStream, Notification, StreamEntry
from inbox.stream import _messages_after
from video_platform.services import video_share

from .factories import UserFactory, VideoFactory

pytestmark = pytest.mark.django_db


def _entries(user) -> list[tuple]:
    return list(StreamEntry.objects.filter(recipient=user).order_by("seq").values_list("seq", "kind", "notification"))


def _shared(creator) -> Notification:
    share = video_share(sharer=UserFactory.create(), video=VideoFactory.create(creator=creator), channel="link")
    fan_out.event_deliver(event_id=share.event.pk)
    return Notification.objects.get(recipient=creator, event=None, type="share")


def test_a_watch_starts_with_the_unread_count_then_logs_the_notification_and_the_new_count():
    creator = UserFactory.create()
    stream_log.stream_watched(user_id=creator.pk)
    notification = _shared(creator)
    assert _entries(creator) == [
        (1, "unread_count", None),
        (2, "notification", notification.pk),
        (3, "unread_count", None),
    ]
    stream = InboxStream.objects.get(user=creator)
    assert (stream.last_seq, stream.present_from_seq) == (3, 1)


def test_an_unwatched_inbox_gets_its_notification_and_no_log():
    creator, watcher = UserFactory.create(), UserFactory.create()
    stream_log.stream_watched(user_id=watcher.pk)
    _shared(creator)
    _shared(watcher)
    assert Notification.objects.filter(recipient=creator).count() == 1
    assert _entries(creator) == []
    assert not InboxStream.objects.filter(user=creator).exists()
    assert [kind for _, kind, _ in _entries(watcher)] == ["unread_count", "notification", "unread_count"]


def test_watching_again_within_the_window_continues_the_same_stretch():
    creator = UserFactory.create()
    stream_log.stream_watched(user_id=creator.pk)
    _shared(creator)
    InboxStream.objects.filter(user=creator).update(present_until=timezone.now() + timedelta(seconds=100))
    stream_log.stream_watched(user_id=creator.pk)
    stream = InboxStream.objects.get(user=creator)
    assert (stream.last_seq, stream.present_from_seq) == (3, 1)
    assert stream.present_until > timezone.now() + timedelta(seconds=settings.INBOX_STREAM_REPLAY_SECONDS - 5)


def test_a_watch_that_lapsed_starts_a_new_stretch_after_what_went_unlogged():
    creator = UserFactory.create()
    stream_log.stream_watched(user_id=creator.pk)
    InboxStream.objects.filter(user=creator).update(present_until=timezone.now() - timedelta(seconds=1))
    _shared(creator)  # nobody watching: not logged
    stream_log.stream_watched(user_id=creator.pk)
    stream = InboxStream.objects.get(user=creator)
    assert [kind for _, kind, _ in _entries(creator)] == ["unread_count", "unread_count"]
    assert (stream.last_seq, stream.present_from_seq) == (2, 2)
    assert not selectors.inbox_stream_replayable_after(user=creator, seq=1)
    assert selectors.inbox_stream_replayable_after(user=creator, seq=2)


def test_a_redelivered_event_logs_nothing_more():
    creator = UserFactory.create()
    stream_log.stream_watched(user_id=creator.pk)
    share = video_share(sharer=UserFactory.create(), video=VideoFactory.create(creator=creator), channel="link")
    fan_out.event_deliver(event_id=share.event.pk)
    fan_out.event_deliver(event_id=share.event.pk)
    assert len(_entries(creator)) == 3


def test_marking_read_logs_the_new_unread_count_only_when_something_changed():
    creator = UserFactory.create()
    stream_log.stream_watched(user_id=creator.pk)
    _shared(creator)
    reading.notifications_mark_all_read(user=creator)
    reading.notifications_mark_all_read(user=creator)
    kinds = [kind for _, kind, _ in _entries(creator)]
    assert kinds == ["unread_count", "notification", "unread_count", "unread_count"]


def test_prune_forgets_entries_past_the_replay_window():
    creator = UserFactory.create()
    stream_log.stream_watched(user_id=creator.pk)
    stream_log.stream_log_unread_count(user_ids=[creator.pk, creator.pk])
    past_window = timezone.now() - timedelta(seconds=settings.INBOX_STREAM_REPLAY_SECONDS + 1)
    StreamEntry.objects.filter(seq=1).update(created_at=past_window)
    assert stream_log.stream_log_prune() == 1
    assert [seq for seq, _, _ in _entries(creator)] == [2]


@pytest.fixture
def pubsub():
    """Subscribe to users' stream channels as an open stream does (``open``), or only observe them without
    opening a stream (``observe``: a pattern subscription is not counted by PUBSUB NUMSUB)."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    opened = []

    def subscribe(user, *, observe=False):
        opened.append(client.pubsub())
        subscribe = opened[-1].psubscribe if observe else opened[-1].subscribe
        subscribe(live.channel_name(user.pk))
        assert opened[-1].get_message(timeout=1)["type"] in ("subscribe", "psubscribe")
        return opened[-1]

    yield subscribe
    for each in opened:
        each.close()
    client.close()


def _pushed(subscription) -> live.Push | None:
    message = subscription.get_message(ignore_subscribe_messages=True, timeout=2)
    assert message is not None, "nothing was published"
    return live.Push.decode(message["data"])


def _tag_share_delivered(sharer, video, tagged, django_capture_on_commit_callbacks):
    share = video_share(sharer=sharer, video=video, channel="tag", tagged=[tagged])
    with django_capture_on_commit_callbacks(execute=True):
        fan_out.event_deliver(event_id=share.event.pk)


def _tag_share_to_open_streams(pubsub, django_capture_on_commit_callbacks):
    """@sharer_x tags one user in a share of another's video; both watch their inbox with a stream open.
    Returns the creator, the tagged user and what each stream was sent."""
    creator, tagged, sharer = UserFactory.create(), UserFactory.create(), UserFactory.create(username="sharer_x")
    streams = {}
    for user in (creator, tagged):
        stream_log.stream_watched(user_id=user.pk)
        streams[user] = pubsub(user)
    _tag_share_delivered(sharer, VideoFactory.create(creator=creator), tagged, django_capture_on_commit_callbacks)
    return creator, tagged, {user: _pushed(stream) for user, stream in streams.items()}


def _data(message: str) -> dict:
    return json.loads(message.split("data: ", 1)[1])


@pytest.mark.skipif(not settings.REDIS_URL, reason="stream pushes go through Redis pub/sub only with REDIS_URL")
def test_a_delivery_pushes_to_each_open_stream_the_messages_a_read_of_its_log_gives(
    pubsub, django_capture_on_commit_callbacks
):
    _, _, pushed = _tag_share_to_open_streams(pubsub, django_capture_on_commit_callbacks)
    for user, push in pushed.items():
        assert (push.first, push.last) == (2, 3)  # after the watch's opening unread count
        logged, position, _ = _messages_after(user, 1)
        assert (push.messages, position) == (logged, 3)


@pytest.mark.skipif(not settings.REDIS_URL, reason="stream pushes go through Redis pub/sub only with REDIS_URL")
def test_a_pushed_share_names_the_sharer_to_the_tagged_user_and_never_to_the_creator(
    pubsub, django_capture_on_commit_callbacks
):
    creator, tagged, pushed = _tag_share_to_open_streams(pubsub, django_capture_on_commit_callbacks)
    to_creator, to_tagged = pushed[creator].messages, pushed[tagged].messages
    assert (_data(to_creator[0])["type"], _data(to_creator[0])["actor"]) == ("share", None)
    assert "sharer_x" not in "".join(to_creator)
    assert (_data(to_tagged[0])["type"], _data(to_tagged[0])["actor"]["username"]) == ("tag", "sharer_x")


@pytest.mark.skipif(not settings.REDIS_URL, reason="stream pushes go through Redis pub/sub only with REDIS_URL")
def test_a_delivery_pushes_nothing_to_a_watched_inbox_without_an_open_stream(
    pubsub, django_capture_on_commit_callbacks
):
    creator, tagged = UserFactory.create(), UserFactory.create()
    stream_log.stream_watched(user_id=creator.pk)
    observer = pubsub(creator, observe=True)
    _tag_share_delivered(
        UserFactory.create(), VideoFactory.create(creator=creator), tagged, django_capture_on_commit_callbacks
    )
    assert observer.get_message(ignore_subscribe_messages=True, timeout=0.5) is None
    assert [kind for _, kind, _ in _entries(creator)] == ["unread_count", "notification", "unread_count"]


@pytest.mark.skipif(not settings.REDIS_URL, reason="stream pushes go through Redis pub/sub only with REDIS_URL")
def test_past_the_rendering_limit_open_streams_get_a_wake_up_to_read_their_log(
    pubsub, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(stream_log, "PUSH_RENDERED_MAX", 1)
    creator, tagged, pushed = _tag_share_to_open_streams(pubsub, django_capture_on_commit_callbacks)
    first, second = sorted((creator, tagged), key=lambda user: user.pk)
    assert pushed[first] is not None and pushed[second] is None


@pytest.mark.django_db(transaction=True)
def test_a_new_watch_returns_only_after_a_writer_that_read_it_as_unwatched_has_committed(monkeypatch):
    monkeypatch.setattr("inbox.dispatch.task_send", lambda *args, **options: True)  # only the thread below delivers
    creator = UserFactory.create()
    share = video_share(sharer=UserFactory.create(), video=VideoFactory.create(creator=creator), channel="link")
    has_read, carry_on, seen = threading.Event(), threading.Event(), {}
    read_watched = stream_log._watched

    def pausing_after_the_read(user_ids):
        watched = read_watched(user_ids)
        has_read.set()
        carry_on.wait(timeout=30)
        return watched

    def in_thread(work):
        def run():
            try:
                work()
            finally:
                connection.close()

        return threading.Thread(target=run)

    def watch():
        stream_log.stream_watched(user_id=creator.pk)
        seen["unread"] = selectors.inbox_unread_counts(user=creator)["total"]

    monkeypatch.setattr(stream_log, "_watched", pausing_after_the_read)
    writer = in_thread(lambda: fan_out.event_deliver(event_id=share.event.pk))
    writer.start()
    assert has_read.wait(timeout=30)
    watcher = in_thread(watch)
    watcher.start()
    watcher.join(timeout=0.5)
    carry_on.set()
    writer.join(timeout=30)
    watcher.join(timeout=30)

    # The writer logged nothing for the creator, but the watch begins from a state that holds its notification.
    assert _entries(creator) == [(1, "unread_count", None)]
    assert seen == {"unread": 1}
