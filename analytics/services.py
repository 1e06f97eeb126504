"""The roll-up: raw rows folded into per-day aggregates, and raw views pruned once their days are final.

Folding a day recomputes it from raw rows and replaces its aggregates, so re-running gives the same
numbers. A day whose raw views were pruned is never folded again: its aggregates are all that is left.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from video_platform.models import ProfileView, VideoView

from . import selectors
from .models import SETTLE_AFTER, DailyCreatorStats, DailyVideoStats, RollupDay, day_start

BULK_BATCH_SIZE = 1000


@dataclass(frozen=True)
class DayFold:
    date: date
    videos: int = 0
    creators: int = 0
    skipped_pruned: bool = False


@dataclass(frozen=True)
class DayPrune:
    date: date
    video_views: int
    profile_views: int


def _locked_ledger(day: date) -> RollupDay:
    """The day's ledger row, locked: folds and prunes of one day run one at a time."""
    RollupDay.objects.get_or_create(date=day)
    return RollupDay.objects.select_for_update().get(date=day)


@transaction.atomic
def rollup_day(*, day: date) -> DayFold:
    """Recompute one UTC day's aggregates from raw rows and replace the stored ones."""
    if day > selectors.today_utc():
        raise ValueError(f"{day} has not started yet (UTC).")
    ledger = _locked_ledger(day)
    if ledger.raw_pruned_at is not None:
        return DayFold(date=day, skipped_pruned=True)
    started = timezone.now()
    ranges = selectors.day_ranges([day])
    video_rows = [
        DailyVideoStats(creator_id=creator_id, video_id=video_id, date=day, **counts)
        for (creator_id, video_id, _), counts in selectors.raw_video_counts(ranges=ranges).items()
    ]
    creator_rows = [
        DailyCreatorStats(creator_id=creator_id, date=day, **counts)
        for (creator_id, _), counts in selectors.raw_creator_counts(ranges=ranges).items()
    ]
    # The ledger lock keeps other folds of this day out, so replacing the rows is an atomic upsert.
    DailyVideoStats.objects.filter(date=day).delete()
    DailyCreatorStats.objects.filter(date=day).delete()
    DailyVideoStats.objects.bulk_create(video_rows, batch_size=BULK_BATCH_SIZE)
    DailyCreatorStats.objects.bulk_create(creator_rows, batch_size=BULK_BATCH_SIZE)
    ledger.folded_at = started
    ledger.settled = ledger.settled or started >= day_start(day + timedelta(days=1)) + SETTLE_AFTER
    ledger.save(update_fields=["folded_at", "settled"])
    return DayFold(date=day, videos=len(video_rows), creators=len(creator_rows))


def days_between(since: date, until: date) -> list[date]:
    return [since + timedelta(days=offset) for offset in range((until - since).days + 1)]


def rollup_pending_since() -> date:
    """First day the incremental roll-up must fold: the oldest unsettled one, else after the last settled."""
    today = selectors.today_utc()
    unsettled = RollupDay.objects.filter(settled=False, raw_pruned_at__isnull=True, date__lte=today)
    oldest_unsettled = unsettled.order_by("date").values_list("date", flat=True).first()
    if oldest_unsettled is not None:
        return oldest_unsettled
    last_settled = RollupDay.objects.filter(settled=True).order_by("-date").values_list("date", flat=True).first()
    return min(last_settled + timedelta(days=1), today) if last_settled else today


def rollup_incremental() -> list[DayFold]:
    """Fold every day since the last settled one, today included (the beat task)."""
    return [rollup_day(day=day) for day in days_between(rollup_pending_since(), selectors.today_utc())]


def raw_views_prune(*, retention_days: int | None = None) -> list[DayPrune]:
    """Delete raw video and profile views older than the retention, only from days already settled."""
    if retention_days is None:
        retention_days = settings.ANALYTICS_RAW_RETENTION_DAYS
    if retention_days < 1:
        raise ValueError("Raw views must be kept at least one day.")
    cutoff = selectors.today_utc() - timedelta(days=retention_days)
    prunable = RollupDay.objects.filter(date__lt=cutoff, settled=True, raw_pruned_at__isnull=True).order_by("date")
    return [_prune_day(day=day) for day in prunable.values_list("date", flat=True)]


@transaction.atomic
def _prune_day(*, day: date) -> DayPrune:
    ledger = _locked_ledger(day)
    if not ledger.settled or ledger.raw_pruned_at is not None:
        return DayPrune(date=day, video_views=0, profile_views=0)
    start, end = day_start(day), day_start(day + timedelta(days=1))
    video_views, _ = VideoView.objects.filter(created_at__gte=start, created_at__lt=end).delete()
    profile_views, _ = ProfileView.objects.filter(created_at__gte=start, created_at__lt=end).delete()
    ledger.raw_pruned_at = timezone.now()
    ledger.save(update_fields=["raw_pruned_at"])
    return DayPrune(date=day, video_views=video_views, profile_views=profile_views)
