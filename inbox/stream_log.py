"""Each user's stream log: what changed in their inbox, in commit order, for the live stream to send and for a
reconnecting client (``Last-Event-ID``) to replay. Written in the transaction that changes the inbox."""

from collections.abc import Iterable, Sequence
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from . import live
from .models import InboxStream, StreamEntry, StreamKind
from .sql import insert_rows

# How long a reconnecting stream can replay what it missed (Last-Event-ID).
STREAM_LOG_DAYS = 7


STREAM_ENTRY_COLUMNS = ("recipient_id", "seq", "kind", "notification_id", "created_at")


def _stream_reserve(counts: dict[int, int]) -> dict[int, int]:
    """Take ``counts[user]`` new sequence numbers for each user; return each user's first one."""
    table = InboxStream._meta.db_table
    users = sorted(counts)  # one order for every writer, so two fan-outs never wait on each other in a cycle
    reserved = insert_rows(
        InboxStream,
        ("user_id", "last_seq"),
        [(user_id, counts[user_id]) for user_id in users],
        f"ON CONFLICT (user_id) DO UPDATE SET last_seq = {table}.last_seq + excluded.last_seq "
        "RETURNING user_id, last_seq",
    )
    return {user_id: last - counts[user_id] + 1 for user_id, last in reserved}


def _stream_append(entries: list[tuple[int, StreamKind, int | None]]) -> None:
    """Append (recipient, kind, notification id) entries to the recipients' streams; wake them on commit."""
    if not entries:
        return
    counts: dict[int, int] = {}
    for recipient_id, _, _ in entries:
        counts[recipient_id] = counts.get(recipient_id, 0) + 1
    next_seq = _stream_reserve(counts)
    rows, now = [], timezone.now()
    for recipient_id, kind, notification_id in entries:
        seq = next_seq[recipient_id]
        rows.append((recipient_id, seq, kind.value, notification_id, now))
        next_seq[recipient_id] = seq + 1
    insert_rows(StreamEntry, STREAM_ENTRY_COLUMNS, rows)
    transaction.on_commit(lambda: live.publish(counts))


def stream_log_notifications(*, written: Sequence[tuple[int, int]]) -> None:
    """Each created or bumped notification (id, recipient id) goes on its recipient's stream, then their
    new unread count."""
    entries = []
    for notification_id, recipient_id in sorted(written, key=lambda pair: (pair[1], pair[0])):
        entries.append((recipient_id, StreamKind.NOTIFICATION, notification_id))
        entries.append((recipient_id, StreamKind.UNREAD_COUNT, None))
    _stream_append(entries)


def stream_log_unread_count(*, user_ids: Iterable[int]) -> None:
    _stream_append([(user_id, StreamKind.UNREAD_COUNT, None) for user_id in sorted(set(user_ids))])


def stream_log_prune(*, older_than_days: int = STREAM_LOG_DAYS) -> int:
    """Forget stream entries past the replay window; a client away longer reloads instead of replaying."""
    deleted, _ = StreamEntry.objects.filter(created_at__lt=timezone.now() - timedelta(days=older_than_days)).delete()
    return deleted
