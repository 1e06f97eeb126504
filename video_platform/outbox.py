"""The social core's outbox: every action's typed record, written in the action's own transaction.

Consumers are told once the transaction commits, by the ``event_committed`` signal: the inbox connects its
fan-out to it (``inbox.apps``). The core names no consumer, and a consumer that misses the signal (a broker
outage) finds the row still pending: the outbox itself is the promise, the signal only a wake-up.
"""

from django.db import transaction
from django.dispatch import Signal

from .actions import RecordedAction
from .models import Event

# Sent after commit with ``event_id``: the outbox row is durable and may be consumed.
event_committed = Signal()


def event_record(*, action: RecordedAction) -> Event:
    """Write the outbox row of an action; call inside the action's transaction."""
    event = Event.objects.create(
        kind=action.kind, actor_id=action.actor_id, video_id=action.video_id, payload=action.to_payload()
    )
    transaction.on_commit(lambda: event_committed.send(sender=Event, event_id=event.pk))
    return event
