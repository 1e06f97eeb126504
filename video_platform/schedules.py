"""Celery beat schedules the project needs beyond a plain interval."""

from datetime import datetime, timedelta

from celery.schedules import schedstate, schedule


class EpochAlignedSchedule(schedule):
    """Due at every epoch-aligned multiple of ``run_every`` (…:00, …:10, … for 600 s), whenever beat started.

    The share batch release runs at the window boundaries themselves, so what it releases moves at a
    boundary and not at some offset of beat's start (a plain interval drifts and starts anywhere).
    """

    def _seconds_to_next_boundary(self, now: datetime) -> float:
        return self.seconds - now.timestamp() % self.seconds

    def remaining_estimate(self, last_run_at: datetime) -> timedelta:
        now = self.maybe_make_aware(self.now())
        last_boundary = now.timestamp() - now.timestamp() % self.seconds
        if self.maybe_make_aware(last_run_at).timestamp() < last_boundary:
            return timedelta(0)
        return timedelta(seconds=self._seconds_to_next_boundary(now))

    def is_due(self, last_run_at: datetime) -> schedstate:
        remaining_seconds = self.remaining_estimate(last_run_at).total_seconds()
        if remaining_seconds <= 0:
            return schedstate(is_due=True, next=self._seconds_to_next_boundary(self.maybe_make_aware(self.now())))
        return schedstate(is_due=False, next=remaining_seconds)
