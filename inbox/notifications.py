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
from .sql import insert_rows
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


def _rows(event: Event, action: RecordedAction, deliveries: Sequence[Delivery], now) -> list[tuple]:
    stamp = connection.ops.adapt_datetimefield_value(now)
    rows = []
    for delivery in deliveries:
        # A message notification opens the chat the message landed in.
        is_message = delivery.type == NotificationType.MESSAGE
        conversation_id = action.conversations.get(delivery.recipient_id) if is_message else None
        rows.append(
            (
                delivery.recipient_id,
                delivery.type.value,
                CATEGORY_OF_TYPE[delivery.type],
                event.actor_id if delivery.shows_actor else None,
                event.video_id,
                conversation_id,
                None if delivery.grouped else event.pk,
                policy.excerpt_for(delivery.type, action.text),
                1,
                True,
                f"{delivery.type.value}:{event.video_id}" if delivery.grouped else None,
                stamp,
                stamp,
            )
        )
    return rows


def notifications_write(event: Event, deliveries: Sequence[Delivery]) -> list[int]:
    """Create ungrouped rows (once per event and recipient) and bump open groups; return the row ids."""
    now, action = timezone.now(), event.action
    written = []  # (notification id, recipient id)
    single = [d for d in deliveries if not d.grouped]
    for start in range(0, len(single), 1000):
        written += insert_rows(
            Notification,
            NOTIFICATION_COLUMNS,
            _rows(event, action, single[start : start + 1000], now),
            "ON CONFLICT (event_id, recipient_id) DO NOTHING RETURNING id, recipient_id",
        )
    table = Notification._meta.db_table
    for delivery in (d for d in deliveries if d.grouped):
        # One statement, so concurrent workers bumping the same open group keep an exact count.
        written += insert_rows(
            Notification,
            NOTIFICATION_COLUMNS,
            _rows(event, action, [delivery], now),
            f"ON CONFLICT (recipient_id, group_key) DO UPDATE SET count = {table}.count + 1, "
            "actor_id = excluded.actor_id, updated_at = excluded.updated_at RETURNING id, recipient_id",
        )
    stream_log_notifications(written=written)
    return [notification_id for notification_id, _ in written]
