"""The per-user stream log behind /api/inbox/stream/, written with the notifications it announces."""

from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from inbox import fan_out, live, reading, stream_log
from inbox.models import InboxStream, Notification, StreamEntry
from video_platform.services import video_share

from .factories import UserFactory, VideoFactory

pytestmark = pytest.mark.django_db


def _entries(user) -> list[tuple]:
    return list(StreamEntry.objects.filter(recipient=user).order_by("seq").values_list("seq", "kind", "notification"))


def test_delivery_logs_the_notification_then_the_unread_count():
    creator = UserFactory.create()
    share = video_share(sharer=UserFactory.create(), video=VideoFactory.create(creator=creator), channel="link")
    fan_out.event_deliver(event_id=share.event.pk)
    notification = Notification.objects.get(recipient=creator)
    assert _entries(creator) == [(1, "notification", notification.pk), (2, "unread_count", None)]
    assert InboxStream.objects.get(user=creator).last_seq == 2


def test_a_redelivered_event_logs_nothing_more():
    creator = UserFactory.create()
    share = video_share(sharer=UserFactory.create(), video=VideoFactory.create(creator=creator), channel="link")
    fan_out.event_deliver(event_id=share.event.pk)
    fan_out.event_deliver(event_id=share.event.pk)
    assert len(_entries(creator)) == 2


def test_marking_read_logs_the_new_unread_count_only_when_something_changed():
    creator = UserFactory.create()
    share = video_share(sharer=UserFactory.create(), video=VideoFactory.create(creator=creator), channel="link")
    fan_out.event_deliver(event_id=share.event.pk)
    reading.notifications_mark_all_read(user=creator)
    reading.notifications_mark_all_read(user=creator)
    assert [kind for _, kind, _ in _entries(creator)] == ["notification", "unread_count", "unread_count"]


def test_prune_forgets_entries_past_the_replay_window():
    creator = UserFactory.create()
    stream_log.stream_log_unread_count(user_ids=[creator.pk, creator.pk])
    stream_log.stream_log_unread_count(user_ids=[creator.pk])
    StreamEntry.objects.filter(seq=1).update(created_at=timezone.now() - timedelta(days=stream_log.STREAM_LOG_DAYS + 1))
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
