"""Reads of Pro analytics: counts only, never who did anything.

Settled days come from the daily aggregates; days the roll-up has not settled (today, at least) are
counted from raw rows, so figures are current and the cost of a read does not grow with history.
"""

import operator
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from functools import reduce

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from video_platform.models import Comment, Follow, Like, ProfileView, Share, Video, VideoView

from .models import DailyCreatorStats, DailyVideoStats, RollupDay, day_start

RANGE_DAYS = (7, 28, 60)
VIDEO_METRICS = ("video_views", "likes", "comments", "shares")
CREATOR_METRICS = ("profile_views", "followers")
METRICS = ("video_views", "profile_views", "likes", "comments", "shares", "followers")
METRIC_LABELS = {
    "video_views": "Video views",
    "profile_views": "Profile views",
    "likes": "Likes",
    "comments": "Comments",
    "shares": "Shares",
    "followers": "New followers",
}

# (metric, model, the moment a row counts): a share counts when it joins the public count, which share
# batching holds until its window is released, so analytics move no sooner than the count does.
RAW_VIDEO_SOURCES = (
    ("video_views", VideoView, "created_at"),
    ("likes", Like, "created_at"),
    ("comments", Comment, "created_at"),
    ("shares", Share, "released_at"),
)
RAW_CREATOR_SOURCES = (("profile_views", ProfileView, "profile_user_id"), ("followers", Follow, "followee_id"))

Ranges = list[tuple[datetime, datetime]]


def today_utc() -> date:
    return timezone.now().astimezone(UTC).date()


def _stamped_within(ranges: Ranges, moment: str = "created_at") -> Q:
    return reduce(operator.or_, (Q(**{f"{moment}__gte": start, f"{moment}__lt": end}) for start, end in ranges))


def _day(moment: str = "created_at"):
    return TruncDate(moment, tzinfo=UTC)


def raw_video_counts(*, ranges: Ranges, creator_id: int | None = None) -> dict[tuple[int, int, date], Counter]:
    """Raw views, likes, comments and (released) shares in ``ranges``, by (creator id, video id, UTC day)."""
    counts = defaultdict(Counter)
    if not ranges:
        return counts
    for metric, model, moment in RAW_VIDEO_SOURCES:
        rows = model.objects.filter(_stamped_within(ranges, moment))
        if creator_id is not None:
            rows = rows.filter(video__creator_id=creator_id)
        by_day = rows.annotate(day=_day(moment)).values_list("video__creator_id", "video_id", "day")
        grouped = by_day.annotate(n=Count("pk"))
        for creator, video, day, n in grouped.order_by():
            counts[(creator, video, day)][metric] = n
    return counts


def raw_creator_counts(*, ranges: Ranges, creator_id: int | None = None) -> dict[tuple[int, date], Counter]:
    """Raw profile views and new follows in ``ranges``, by (creator id, UTC day)."""
    counts = defaultdict(Counter)
    if not ranges:
        return counts
    for metric, model, creator_field in RAW_CREATOR_SOURCES:
        rows = model.objects.filter(_stamped_within(ranges))
        if creator_id is not None:
            rows = rows.filter(**{creator_field: creator_id})
        grouped = rows.annotate(day=_day()).values_list(creator_field, "day").annotate(n=Count("pk"))
        for creator, day, n in grouped.order_by():
            counts[(creator, day)][metric] = n
    return counts


def day_ranges(days: list[date]) -> Ranges:
    """Contiguous runs of ``days`` (sorted) as half-open datetime ranges."""
    ranges = []
    for day in days:
        start, end = day_start(day), day_start(day + timedelta(days=1))
        if ranges and ranges[-1][1] == start:
            ranges[-1] = (ranges[-1][0], end)
        else:
            ranges.append((start, end))
    return ranges


def creator_analytics(*, creator, days: int, today: date | None = None) -> dict:
    """Totals, a zero-filled daily series ending today (UTC) and per-video rows over the last ``days``."""
    today = today or today_utc()
    dates = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    ledger = RollupDay.objects.filter(date__range=(dates[0], today), settled=True)
    settled = sorted(ledger.values_list("date", flat=True))
    unsettled_ranges = day_ranges(sorted(set(dates) - set(settled)))

    daily = {day: Counter() for day in dates}
    by_video = defaultdict(Counter)
    sums = {metric: Sum(metric) for metric in VIDEO_METRICS}
    video_stats = DailyVideoStats.objects.filter(creator=creator, date__in=settled).order_by()
    for row in video_stats.values("date").annotate(**sums):
        daily[row["date"]].update({metric: row[metric] for metric in VIDEO_METRICS})
    for row in video_stats.values("video_id").annotate(**sums):
        by_video[row["video_id"]].update({metric: row[metric] for metric in VIDEO_METRICS})
    for row in DailyCreatorStats.objects.filter(creator=creator, date__in=settled).values("date", *CREATOR_METRICS):
        daily[row["date"]].update({metric: row[metric] for metric in CREATOR_METRICS})

    for (_, video_id, day), counts in raw_video_counts(ranges=unsettled_ranges, creator_id=creator.pk).items():
        daily[day].update(counts)
        by_video[video_id].update(counts)
    for (_, day), counts in raw_creator_counts(ranges=unsettled_ranges, creator_id=creator.pk).items():
        daily[day].update(counts)

    series = [{"date": day, **{metric: daily[day][metric] for metric in METRICS}} for day in dates]
    videos = [
        {"id": video["id"], "caption": video["caption"], **{m: by_video[video["id"]][m] for m in VIDEO_METRICS}}
        for video in Video.objects.filter(creator=creator).order_by("-created_at", "-id").values("id", "caption")
    ]
    return {
        "days": days,
        "totals": {metric: sum(entry[metric] for entry in series) for metric in METRICS},
        "daily": series,
        "videos": videos,
    }


def videos_ranked(videos: list[dict], *, by: str) -> list[dict]:
    """Per-video rows, highest ``by`` first; ties keep the newest video first."""
    return sorted(videos, key=lambda video: video[by], reverse=True)
