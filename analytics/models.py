"""Daily aggregates of what happened to each creator and video, per UTC day, and the roll-up's ledger.

Nothing here records who did anything: only counts.
"""

from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db import models

from video_platform.models import Video

User = settings.AUTH_USER_MODEL

# A fold only settles a day when it starts this long after the day ended, so rows created just
# before midnight whose transaction commits just after it are in.
SETTLE_AFTER = timedelta(minutes=1)


def day_start(day: date) -> datetime:
    """The first instant of a UTC day."""
    return datetime.combine(day, time.min, tzinfo=UTC)


class DailyVideoStats(models.Model):
    creator = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    video = models.ForeignKey(Video, on_delete=models.CASCADE, related_name="daily_stats")
    date = models.DateField()
    video_views = models.PositiveBigIntegerField(default=0)
    likes = models.PositiveBigIntegerField(default=0)
    comments = models.PositiveBigIntegerField(default=0)
    shares = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name_plural = "daily video stats"
        constraints = [models.UniqueConstraint(fields=["video", "date"], name="daily_video_stats_once")]
        indexes = [models.Index(fields=["creator", "date"], name="daily_video_stats_by_creator")]

    def __str__(self) -> str:
        return f"video {self.video_id} on {self.date}"


class DailyCreatorStats(models.Model):
    creator = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    profile_views = models.PositiveBigIntegerField(default=0)
    followers = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name_plural = "daily creator stats"
        constraints = [models.UniqueConstraint(fields=["creator", "date"], name="daily_creator_stats_once")]

    def __str__(self) -> str:
        return f"creator {self.creator_id} on {self.date}"


class RollupDay(models.Model):
    """The roll-up's ledger: when each UTC day was last folded, and whether its raw views are gone."""

    date = models.DateField(unique=True)
    folded_at = models.DateTimeField(null=True, blank=True)
    # Folded late enough (SETTLE_AFTER past the day's end) that the aggregates hold the whole day.
    settled = models.BooleanField(default=False)
    # Once raw views of a day are pruned its aggregates are final: recomputing would lose them.
    raw_pruned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-date",)

    def __str__(self) -> str:
        return str(self.date)
