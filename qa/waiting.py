"""Waiting for delivery from command-line tools and tests: poll the events' status, never a fixed sleep."""

import time
from collections.abc import Callable

from django.db.models import Count, QuerySet

from video_platform.models import EventStatus


class DeliveryTimeout(Exception):
    pass


def workers_answering(timeout: float = 1.0) -> int:
    from video_platform.celery import app

    try:
        return len(app.control.ping(timeout=timeout) or [])
    except Exception:  # the broker itself is unreachable: no worker can be answering either
        return 0


def delivery_timeout_message(pending: int, timeout: float) -> str:
    message = f"{pending} event(s) still pending after {timeout:g}s."
    if not workers_answering():
        return (
            f"{message} No Celery worker answered a ping: start one with "
            "`python -m celery -A video_platform worker` (or `make demo`), or pass --worker."
        )
    return f"{message} A worker is running but has not delivered them: see its log."


def event_status_counts(events: QuerySet) -> dict[str, int]:
    rows = events.values_list("status").annotate(n=Count("id")).order_by()
    return dict.fromkeys(EventStatus.values, 0) | dict(rows)


def events_wait_delivered(
    events: QuerySet, *, timeout: float, on_progress: Callable[[int, int], None] | None = None
) -> dict[str, int]:
    """Wait until none of ``events`` is pending (held ones are fanned out: their batch window releases them);
    answer the counts by status. ``on_progress(finished, total)``."""
    deadline = time.monotonic() + timeout
    while True:
        counts = event_status_counts(events)
        if on_progress:
            on_progress(sum(counts.values()) - counts[EventStatus.PENDING], sum(counts.values()))
        if not counts[EventStatus.PENDING]:
            return counts
        if time.monotonic() > deadline:
            raise DeliveryTimeout(delivery_timeout_message(counts[EventStatus.PENDING], timeout))
        time.sleep(0.05)
