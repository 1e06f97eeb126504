"""The per-user stream log behind /api/inbox/stream/, written with the notifications it announces."""

import threading
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from inbox import fan_out, live, reading, selectors, stream_log
from inbox.models import InboxStream, Notification, StreamEntry
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


@pytest.mark.skipif(not settings.REDIS_URL, reason="stream wake-ups go through Redis pub/sub only with REDIS_URL")
def test_publish_wakes_a_listening_stream_and_sends_nothing_to_a_closed_one():
    listening, closed = 900_001, 900_002
    client = redis.Redis.from_url(settings.REDIS_URL)
    stream = client.pubsub()
    stream.subscribe(live.channel_name(listening))
    # A pattern subscription is not counted by PUBSUB NUMSUB: it sees a PUBLISH without opening a stream.
    observer = client.pubsub()
    observer.psubscribe(live.channel_name(closed))
    for pubsub in (stream, observer):
        assert pubsub.get_message(timeout=1)["type"] in ("subscribe", "psubscribe")
    try:
        live.publish([listening, closed])
        woken = stream.get_message(ignore_subscribe_messages=True, timeout=2)
        assert woken["channel"] == live.channel_name(listening).encode()
        assert observer.get_message(ignore_subscribe_messages=True, timeout=0.5) is None
    finally:
        stream.close()
        observer.close()
        client.close()


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
