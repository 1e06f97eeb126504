"""Unread counts are counted over the partial unread index when asked for: exact up to 999, capped past it,
and nothing is written per notification to keep them."""

import pytest
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from inbox import fan_out, reading, selectors
from inbox.models import EventChunk, Notification
from video_platform import services
from video_platform.notification_types import CATEGORIES, CATEGORY_OF_TYPE

from .clients import api_client
from .factories import UserFactory, VideoFactory

pytestmark = pytest.mark.django_db


def recount(user) -> dict:
    """The unread rows of ``user``'s inbox per category, counted the slow, obvious way."""
    rows = Notification.objects.filter(recipient=user, unread=True).values_list("category").annotate(n=Count("id"))
    return dict.fromkeys(CATEGORIES, 0) | dict(rows)


def assert_counts_exact(*users) -> None:
    for user in users:
        by_category = recount(user)
        assert selectors.inbox_unread_counts(user=user) == {
            "total": sum(by_category.values()),
            "by_category": by_category,
            "capped": False,
        }


def unread_rows(user, category: str, n: int) -> None:
    """``n`` unread notifications of ``category`` for ``user``, in one statement."""
    now = timezone.now()
    kind = next(t.value for t, c in CATEGORY_OF_TYPE.items() if c == category)
    Notification.objects.bulk_create(
        Notification(recipient=user, type=kind, category=category, created_at=now, updated_at=now) for _ in range(n)
    )


def test_counts_equal_a_recount_through_writes_bumps_reads_and_deletes(settings, deliver):
    settings.POST_FAN_OUT_CHUNK_SIZE = 2
    creator, fan, other = UserFactory.create(), UserFactory.create(), UserFactory.create()
    followers = [UserFactory.create() for _ in range(5)]
    for follower in followers:
        services.follow_create(follower=follower, followee=creator)
    video = VideoFactory.create(creator=creator)
    deliver(services.video_create(creator=creator, caption="new one").event)
    deliver(services.video_share(sharer=fan, video=video, channel="link").event)
    deliver(services.video_share(sharer=other, video=video, channel="link").event)  # bumps the open group
    deliver(services.video_share(sharer=other, video=video, channel="tag", tagged=[fan]).event)
    deliver(services.comment_create(author=fan, video=video, text="great").event)
    deliver(services.like_create(user=fan, video=video).event)
    everyone = (creator, fan, other, *followers)
    assert selectors.inbox_unread_counts(user=creator)["total"] > 0
    assert_counts_exact(*everyone)

    reading.notification_mark_read(notification=Notification.objects.filter(recipient=creator).first())
    assert_counts_exact(*everyone)
    reading.notifications_mark_all_read(user=followers[0], category="posts")
    assert_counts_exact(*everyone)
    followers[1].delete()
    video.delete()  # cascades to the creator's share, like and comment notifications
    assert_counts_exact(creator, fan, other, followers[0], *followers[2:])
    reading.notifications_mark_all_read(user=creator)
    assert selectors.inbox_unread_counts(user=creator)["total"] == 0


def test_bumping_an_open_share_group_keeps_it_one_unread_notification(deliver):
    creator = UserFactory.create()
    video = VideoFactory.create(creator=creator)
    for _ in range(3):
        deliver(services.video_share(sharer=UserFactory.create(), video=video, channel="link").event)
    assert Notification.objects.get(recipient=creator).count == 3
    body = api_client(creator).get("/api/inbox/unread-count/").json()
    assert (body["total"], body["by_category"]["shares"], body["capped"]) == (1, 1, False)


def test_unread_count_endpoint_reports_each_category_of_the_caller_only(deliver):
    creator, fan = UserFactory.create(), UserFactory.create()
    video = VideoFactory.create(creator=creator)
    deliver(services.video_share(sharer=fan, video=video, channel="link").event)
    deliver(services.comment_create(author=fan, video=video, text="hi").event)
    deliver(services.follow_create(follower=fan, followee=creator).event)
    body = api_client(creator).get("/api/inbox/unread-count/").json()
    assert body["total"] == 3
    assert {k: v for k, v in body["by_category"].items() if v} == {"shares": 1, "comments": 1, "followers": 1}
    assert body["capped"] is False
    assert api_client(fan).get("/api/inbox/unread-count/").json()["total"] == 0


def test_a_redelivered_post_chunk_adds_nothing_to_the_counts(settings, deliver):
    settings.POST_FAN_OUT_CHUNK_SIZE = 2
    creator = UserFactory.create()
    followers = [UserFactory.create() for _ in range(3)]
    for follower in followers:
        services.follow_create(follower=follower, followee=creator)
    video = services.video_create(creator=creator, caption="hello")
    deliver(video.event)
    fan_out.post_chunk_deliver(event_id=video.event.pk, index=0)
    assert EventChunk.objects.filter(event=video.event).count() == 2
    for follower in followers:
        assert selectors.inbox_unread_counts(user=follower)["by_category"]["posts"] == 1
    assert_counts_exact(*followers)


def test_999_unread_are_counted_exactly_and_not_capped():
    user = UserFactory.create()
    unread_rows(user, "shares", 999)
    counts = api_client(user).get("/api/inbox/unread-count/").json()
    assert (counts["total"], counts["by_category"]["shares"], counts["capped"]) == (999, 999, False)


def test_1001_unread_read_as_999_capped():
    user = UserFactory.create()
    unread_rows(user, "shares", 1001)
    counts = api_client(user).get("/api/inbox/unread-count/").json()
    assert (counts["total"], counts["by_category"]["shares"], counts["capped"]) == (999, 999, True)


def test_past_the_cap_each_category_below_999_stays_exact():
    user = UserFactory.create()
    unread_rows(user, "shares", 1200)
    unread_rows(user, "likes", 600)
    unread_rows(user, "comments", 5)
    counts = selectors.inbox_unread_counts(user=user)
    assert counts["total"] == 999
    assert counts["capped"] is True
    assert {k: v for k, v in counts["by_category"].items() if v} == {"shares": 999, "likes": 600, "comments": 5}


def test_a_total_over_999_is_capped_though_no_category_is():
    user = UserFactory.create()
    unread_rows(user, "shares", 500)
    unread_rows(user, "likes", 500)
    counts = selectors.inbox_unread_counts(user=user)
    assert (counts["total"], counts["capped"]) == (999, True)
    assert (counts["by_category"]["shares"], counts["by_category"]["likes"]) == (500, 500)


def test_reading_below_the_cap_makes_the_count_exact_again():
    user = UserFactory.create()
    unread_rows(user, "shares", 1001)
    unread_rows(user, "likes", 3)
    response = api_client(user).post("/api/inbox/read-all/?category=shares")
    assert response.json() == {"total": 3, "by_category": dict.fromkeys(CATEGORIES, 0) | {"likes": 3}, "capped": False}


def test_writing_a_notification_writes_no_counter_row():
    """The trigger and its table are gone: a fan-out writes one notification row per recipient, nothing more."""
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        assert "inbox_unreadcount" not in tables
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'inbox_notification'::regclass AND NOT tgisinternal"
            )
            assert cursor.fetchall() == []
