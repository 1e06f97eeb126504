"""Writing inbox rows: one per event and recipient, and open groups bumped in one statement, each change logged
on the recipient's stream. ``ON CONFLICT`` makes a second delivery of the same event write nothing."""

from collections.abc import Sequence

from django.db import connection
from django.utils import timezone

from video_platform.actions import RecordedAction
from video_platform.models import Event
from video_platform.notification_types import CATEGORY_OF_TYPE, NotificationType

from . import policy
from .models import Notification
from .policy import Delivery
from .sql import insert_columns
from .stream_log import stream_log_notifications

NOTIFICATION_COLUMNS = (
    "recipient_id",
    "type",
    "category",
    "actor_id",
    "video_id",
    "conversation_id",
    "event_id",
    "excerpt",
    "count",
    "unread",
    "group_key",
    "created_at",
    "updated_at",
)


def _columns(event: Event, action: RecordedAction, deliveries: Sequence[Delivery], now) -> dict[str, object]:
    """The rows of NOTIFICATION_COLUMNS as one value per column (a list: a value per row; else one for all).

    A chunk of a post's followers differs only in the recipient, so it costs a list of ids, not a row each.
    """
    if isinstance(deliveries, policy.SameDeliveries):
        by_type = {deliveries.type: list(deliveries.recipient_ids)}
    else:
        by_type = {}
        for delivery in deliveries:
            by_type.setdefault(delivery.type, []).append(delivery.recipient_id)
    stamp = connection.ops.adapt_datetimefield_value(now)
    parts = [_type_columns(event, action, type_, recipient_ids, stamp) for type_, recipient_ids in by_type.items()]
    if len(parts) == 1:
        return parts[0]
    columns = {}
    for column in NOTIFICATION_COLUMNS:
        values = [part[column] for part in parts]
        if any(isinstance(value, list) for value in values) or any(value != values[0] for value in values):
            sizes = [len(part["recipient_id"]) for part in parts]
            values = [v if isinstance(v, list) else [v] * size for v, size in zip(values, sizes, strict=True)]
            columns[column] = [value for part_values in values for value in part_values]
        else:
            columns[column] = values[0]
    return columns


def _type_columns(event: Event, action: RecordedAction, type_: NotificationType, recipient_ids: list[int], stamp):
    grouped = policy.is_grouped(type_)
    return {
        "recipient_id": recipient_ids,
        "type": type_.value,
        "category": CATEGORY_OF_TYPE[type_],
        "actor_id": event.actor_id if policy.shows_actor(type_) else None,
        "video_id": event.video_id,
        # A message notification opens the chat the message landed in.
        "conversation_id": (
            [action.conversations.get(uid) for uid in recipient_ids] if type_ == NotificationType.MESSAGE else None
        ),
        "event_id": None if grouped else event.pk,
        "excerpt": policy.excerpt_for(type_, action.text),
        "count": 1,
        "unread": True,
        "group_key": f"{type_.value}:{event.video_id}" if grouped else None,
        "created_at": stamp,
        "updated_at": stamp,
    }


def notifications_write(event: Event, deliveries: Sequence[Delivery], *, claimed: bool = False) -> list[int]:
    """Create ungrouped rows (once per event and recipient) and bump open groups; return the row ids.

    ``claimed``: the caller's transaction holds a claim that makes it the only writer of these rows (a post
    chunk's EventChunk row), so ungrouped rows are inserted plainly: the unique (event, recipient) constraint
    still stands, and a duplicate fails the transaction instead of being skipped. ON CONFLICT's speculative
    insertion cost a quarter of PostgreSQL's work for a chunk.
    """
    now, action = timezone.now(), event.action
    written = []  # (notification id, recipient id)
    if isinstance(deliveries, policy.SameDeliveries) and not deliveries.grouped:
        single, grouped = deliveries, []
    else:
        single = [d for d in deliveries if not d.grouped]
        grouped = [d for d in deliveries if d.grouped]
    if single:
        written += insert_columns(
            Notification,
            _columns(event, action, single, now),
            "RETURNING id, recipient_id"
            if claimed
            else "ON CONFLICT (event_id, recipient_id) DO NOTHING RETURNING id, recipient_id",
        )
    table = Notification._meta.db_table
    for delivery in grouped:
        # One statement, so concurrent workers bumping the same open group keep an exact count. The conflict
        # target names the open-group key with its predicate, so it infers the unique (recipient, group_key)
        # index whether that indexes every row or, partial, only the grouped ones that have a key.
        written += insert_columns(
            Notification,
            _columns(event, action, [delivery], now),
            "ON CONFLICT (recipient_id, group_key) WHERE group_key IS NOT NULL DO UPDATE SET "
            f"count = {table}.count + 1, actor_id = excluded.actor_id, updated_at = excluded.updated_at "
            "RETURNING id, recipient_id",
        )
    stream_log_notifications(written=written)
    return [notification_id for notification_id, _ in written]
