"""Thin Celery tasks: ids in, the inbox's modules do the work. JSON arguments, explicit names."""

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.db import InterfaceError, OperationalError

from . import batching, deletions, dispatch, fan_out, stream_log

# Transient database trouble (a restart, a lock timeout) is retried with backoff and jitter.
TRANSIENT = (OperationalError, InterfaceError)
RETRY = dict(
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=12,
)


class FanOutTask(DjangoTask):
    # Transient errors leave the event pending for the sweeper; anything else is a failure to look at.
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        if args and not isinstance(exc, TRANSIENT):
            dispatch.event_mark_failed(event_id=args[0], error=f"{type(exc).__name__}: {exc}")


@shared_task(name="inbox.fan_out_event", base=FanOutTask, **RETRY)
def fan_out_event(event_id: int) -> None:
    fan_out.event_deliver(event_id=event_id)


@shared_task(name="inbox.fan_out_post_chunk", base=FanOutTask, **RETRY)
def fan_out_post_chunk(event_id: int, index: int) -> None:
    fan_out.post_chunk_deliver(event_id=event_id, index=index)


@shared_task(name="inbox.redispatch_pending_events")
def redispatch_pending_events() -> int:
    return dispatch.events_redispatch_pending()


@shared_task(name="inbox.prune_stream_log")
def prune_stream_log() -> int:
    return stream_log.stream_log_prune()


@shared_task(name="inbox.release_share_batches", **RETRY)
def release_share_batches() -> int:
    return batching.held_shares_release()


@shared_task(name="inbox.delete_notifications_of_deleted", **RETRY)
def delete_notifications_of_deleted(kind: str, ids: list[int]) -> int:
    return deletions.notifications_of_deleted_delete(kind=kind, ids=ids)
