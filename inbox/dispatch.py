"""Sending fan-out work to the workers: on the outbox's commit, again from the sweeper, and a post's chunks.

A send that finds the broker down is logged and left to the sweeper: the outbox row stays pending, so a broker
outage delays delivery and loses nothing.
"""

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

from video_platform.models import Event, EventStatus

from .models import EventChunk

logger = logging.getLogger(__name__)


def task_send(task, *args, **options) -> bool:
    """Queue a task (``options`` as for ``apply_async``); with the broker down, log and leave the event pending
    for the sweeper to re-send.

    The action has committed by now: a broker outage must not turn it into an error for the user.
    """
    try:
        task.apply_async(args, **options)
    except BrokerUnavailable as error:
        logger.warning("broker unavailable (%s): %s%r left for the sweeper", error, task.name, args)
        return False
    return True


def event_dispatch(*, event_id: int, **signal_kwargs) -> None:
    """Receiver of the outbox's ``event_committed``: send the new event to the fan-out."""
    from .tasks import fan_out_event

    task_send(fan_out_event, event_id)


def post_chunks_dispatch(event: Event) -> None:
    """Send a post's follower chunks not delivered yet, one task each."""
    from .tasks import fan_out_post_chunk

    done = set(EventChunk.objects.filter(event=event).values_list("index", flat=True))
    for index in range(len(event.chunk_bounds)):
        if index not in done and not task_send(fan_out_post_chunk, event.pk, index):
            return


def event_mark_failed(*, event_id: int, error: str) -> None:
    Event.objects.filter(pk=event_id, status=EventStatus.PENDING).update(status=EventStatus.FAILED, error=error[:2000])


def events_redispatch(*, event_ids: Iterable[int]) -> int:
    """Send pending or failed events to the workers again (the sweeper, admin actions)."""
    from .tasks import fan_out_event

    event_ids = list(event_ids)
    Event.objects.filter(pk__in=event_ids, status=EventStatus.FAILED).update(status=EventStatus.PENDING, error="")
    event_ids = list(Event.objects.filter(pk__in=event_ids, status=EventStatus.PENDING).values_list("pk", flat=True))
    Event.objects.filter(pk__in=event_ids).update(dispatched_at=timezone.now(), attempts=F("attempts") + 1)
    for event_id in event_ids:
        if not task_send(fan_out_event, event_id):
            break
    return len(event_ids)


def events_redispatch_pending(*, older_than_seconds: int | None = None, limit: int = 1000) -> int:
    """Re-send events still pending a while after their last dispatch: a broker outage loses nothing."""
    if older_than_seconds is None:
        older_than_seconds = settings.EVENT_REDISPATCH_AFTER_SECONDS
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    stale = Event.objects.filter(status=EventStatus.PENDING, dispatched_at__lt=cutoff).order_by("dispatched_at")
    return events_redispatch(event_ids=stale.values_list("pk", flat=True)[:limit])
