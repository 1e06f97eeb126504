"""`manage.py seed`: the demo users and a lived-in world of 60 days, built once and rebuilt the same."""

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from analytics.selectors import creator_analytics
from inbox.models import Notification
from video_platform.models import Comment, Event, Follow, Like, Message, Share, Video, VideoView

pytestmark = pytest.mark.django_db

User = get_user_model()


def _state() -> dict:
    """The world as counts per kind and day: the same after a rebuild, whatever the row ids."""

    def per_day(model, **filters):
        rows = model.objects.filter(**filters).annotate(day=TruncDate("created_at")).values("day")
        return sorted((row["day"], row["n"]) for row in rows.annotate(n=Count("pk")))

    return {
        "users": sorted(User.objects.values_list("username", flat=True)),
        "videos": sorted(
            Video.objects.values_list(
                "creator__username", "caption", "view_count", "like_count", "comment_count", "share_count"
            )
        ),
        "follows": per_day(Follow),
        "likes": per_day(Like),
        "comments": per_day(Comment),
        "views": per_day(VideoView),
        "shares": sorted(Share.objects.values_list("channel", "sharer__username", "video__caption")),
        "messages": per_day(Message),
        "notifications": sorted(Notification.objects.values_list("recipient__username", "type", "count", "unread")),
        "events": Event.objects.count(),
    }


def assert_logins_table_is_aligned(output: str) -> None:
    rows = [line for line in output.splitlines() if line.startswith("  ")]
    assert [row.split()[0] for row in rows] == [
        "username",
        "ana",
        "ben",
        "cara",
        "dev",
        "eli",
        "admin",
        "support",
        "moderator",
    ]
    assert len({row.index("shareloop-demo") for row in rows[1:]} | {rows[0].index("password")}) == 1
    assert len({len(row) - 40 for row in rows[1:]} | {rows[0].index("API token")}) == 1
    assert all(re.fullmatch(r"[0-9a-f]{40}", row[-40:]) for row in rows[1:])


def test_seed_builds_a_lived_in_world_once_and_reset_rebuilds_the_same_one():
    out = StringIO()
    call_command("seed", stdout=out)
    first = _state()
    assert len(first["videos"]) >= 15
    assert {channel for channel, _, _ in first["shares"]} == {"link", "tag", "dm"}
    today = timezone.now().date()
    for kind in ("likes", "comments", "views", "messages", "follows"):
        assert min(day for day, _ in first[kind]) <= today - timedelta(days=40), kind
    assert Event.objects.exclude(status="done").count() == 0

    ana = User.objects.get(username="ana")
    ana.set_password("something-else-entirely")
    ana.save()
    out = StringIO()
    call_command("seed", stdout=out)
    assert _state() == first
    assert User.objects.get(username="ana").check_password("shareloop-demo")
    assert_logins_table_is_aligned(out.getvalue())

    User.objects.create_user("stranger", password="x-long-password-1")
    call_command("seed", "--reset", stdout=StringIO())
    assert _state() == first


def test_a_pro_demo_creator_has_activity_on_most_of_the_last_28_days():
    call_command("seed", stdout=StringIO())
    analytics = creator_analytics(creator=User.objects.get(username="cara"), days=28)
    active_days = [
        day for day in analytics["daily"] if day["video_views"] and (day["likes"] or day["shares"] or day["comments"])
    ]
    assert len(active_days) >= 14
