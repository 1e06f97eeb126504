"""The unread badge reads trigger-maintained counters; they must always equal a recount of the rows."""

import pytest
from django.db.models import Count

from inbox import fan_out, reading
from inbox.models import EventChunk, Notification, UnreadCount
from video_platform import services

from .clients import api_client
from .factories import UserFactory, VideoFactory

pytestmark = pytest.mark.django_db


def recount() -> dict:
    rows = Notification.objects.filter(unread=True).values_list("recipient_id", "category").annotate(n=Count("id"))
    return {(recipient, category): n for recipient, category, n in rows}


def counters() -> dict:
    rows = UnreadCount.objects.exclude(count=0).values_list("recipient_id", "category", "count")
    return {(recipient, category): n for recipient, category, n in rows}


def test_unread_counters_equal_a_recount_through_writes_reads_and_deletes(settings, deliver):
    settings.POST_FAN_OUT_CHUNK_SIZE = 2
    creator, fan, other = UserFactory.create(), UserFactory.create(), UserFactory.create()
    followers = [UserFactory.create() for _ in range(5)]
    for follower in followers:
        services.follow_create(follower=follower, followee=creator)
    video = VideoFactory.create(creator=creator)
    deliver(services.video_create(creator=creator, caption="new one").event)
    deliver(services.video_share(sharer=fan, video=video, channel="link").event)
    deliver(services.video_share(sharer=other, video=video, channel="tag", tagged=[fan]).event)
    deliver(services.comment_create(author=fan, video=video, text="great").event)
    deliver(services.like_create(user=fan, video=video).event)
    assert counters() == recount() != {}

    reading.notification_mark_read(notification=Notification.objects.filter(recipient=creator).first())
    assert counters() == recount()
    reading.notifications_mark_all_read(user=followers[0], category="posts")
    assert counters() == recount()
    followers[1].delete()
    video.delete()
    assert counters() == recount()
    reading.notifications_mark_all_read(user=creator)
    assert counters() == recount()
    assert UnreadCount.objects.filter(recipient=creator).exclude(count=0).count() == 0


def test_bumping_an_open_share_group_keeps_it_one_unread_notification(deliver):
    creator = UserFactory.create()
    video = VideoFactory.create(creator=creator)
    for _ in range(3):
        deliver(services.video_share(sharer=UserFactory.create(), video=video, channel="link").event)
    assert Notification.objects.get(recipient=creator).count == 3
    body = api_client(creator).get("/api/inbox/unread-count/").json()
    assert body["total"] == 1
    assert body["by_category"]["shares"] == 1


def test_unread_count_endpoint_reports_each_category_of_the_caller_only(deliver):
    creator, fan = UserFactory.create(), UserFactory.create()
    video = VideoFactory.create(creator=creator)
    deliver(services.video_share(sharer=fan, video=video, channel="link").event)
    deliver(services.comment_create(author=fan, video=video, text="hi").event)
    deliver(services.follow_create(follower=fan, followee=creator).event)
    body = api_client(creator).get("/api/inbox/unread-count/").json()
    assert body["total"] == 3
    assert {k: v for k, v in body["by_category"].items() if v} == {"shares": 1, "comments": 1, "followers": 1}
    assert api_client(fan).get("/api/inbox/unread-count/").json()["total"] == 0


def test_a_redelivered_post_chunk_adds_nothing_to_the_counters(settings, deliver):
    settings.POST_FAN_OUT_CHUNK_SIZE = 2
    creator = UserFactory.create()
    for _ in range(3):
        services.follow_create(follower=UserFactory.create(), followee=creator)
    video = services.video_create(creator=creator, caption="hello")
    deliver(video.event)
    before = counters()
    fan_out.post_chunk_deliver(event_id=video.event.pk, index=0)
    assert EventChunk.objects.filter(event=video.event).count() == 2
    assert counters() == before == recount()
