"""Each user's stream log: what changed in their inbox, in commit order, for the live stream to send and for a
returning client (``Last-Event-ID``, ``?since=``) to replay. Written in the transaction that changes the inbox;
after it commits, the writer pushes the new entries' messages to the streams open on them (``live``).

Only for users whose inbox is watched (presence): an open stream or an inbox page read, within the replay window
(INBOX_STREAM_REPLAY_SECONDS). Most of a celebrity's followers are not looking when she posts, so their share of
the fan-out is one notification row each, not that row plus two log entries and a sequence bump.
"""

import json
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from . import live, selectors
from .models import InboxStream, StreamEntry, StreamKind
from .rendering import notification_json
from .sql import insert_rows, integer_array_param

logger = logging.getLogger(__name__)

STREAM_ENTRY_COLUMNS = ("recipient_id", "seq", "kind", "notification_id", "created_at")

# Every transaction that may write log entries holds this shared advisory lock from before it reads who is
# watched until it commits. Nothing takes it exclusively: it only lets a new watcher see which writers are in
# flight (pg_locks) and wait for them, as they may have read that nobody was watching.
_WRITER_LOCK = (7305, 1)
_WRITERS_IN_FLIGHT_SQL = (
    "SELECT array_agg(virtualtransaction) FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " AND classid = %s AND objid = %s AND objsubid = 2 AND pid <> pg_backend_pid()"
)
# A writer is one fan-out chunk or one delivery; one still running after this is stuck, and is not waited for.
_WRITERS_WAIT_SECONDS = 30
# Streams a writer renders its entries for after one commit; any more open streams get a wake-up and read the log.
PUSH_RENDERED_MAX = 100

# A log entry as the stream reads it: (seq, kind, notification id or None).
Entry = tuple[int, str, int | None]


def _replay_window() -> timedelta:
    return timedelta(seconds=settings.INBOX_STREAM_REPLAY_SECONDS)


def stream_watched(*, user_id: int) -> None:
    """The user is looking at their inbox: log its changes for the replay window from now.

    Extending a watch is one small write at most. A user not watched until now starts a new stretch of log
    (``present_from_seq``, with the unread count as its first entry); this returns once every inbox writer
    that may have read them as absent has committed, so from then on every change is either already
    visible or logged.
    """
    window, now = _replay_window(), timezone.now()
    watched_until = InboxStream.objects.filter(user_id=user_id).values_list("present_until", flat=True).first()
    if watched_until is not None and watched_until > now + window * 0.9:
        return  # extended moments ago
    # Far enough from its end that no writer running now can read it as over: extend it in place.
    if watched_until is not None and watched_until > now + window * 0.1:
        extended = InboxStream.objects.filter(user_id=user_id, present_until__gt=now + window * 0.1)
        if extended.update(present_until=now + window):
            return
    with transaction.atomic():
        stream, _ = InboxStream.objects.select_for_update().get_or_create(user_id=user_id)
        now = timezone.now()
        starts = stream.present_until is None or stream.present_until <= now + window * 0.1
        if starts:
            stream.last_seq += 1
            stream.present_from_seq = stream.last_seq
            StreamEntry.objects.create(recipient_id=user_id, seq=stream.last_seq, kind=StreamKind.UNREAD_COUNT)
        stream.present_until = now + window
        stream.save(update_fields=["last_seq", "present_from_seq", "present_until"])
    if starts:
        _writers_in_flight_wait()


def _writers_in_flight_wait() -> None:
    """Wait until the inbox writers running now have committed (PostgreSQL; SQLite runs one writer at a time)."""
    if connection.vendor != "postgresql":
        return
    deadline = time.monotonic() + _WRITERS_WAIT_SECONDS
    with connection.cursor() as cursor:
        cursor.execute(_WRITERS_IN_FLIGHT_SQL, _WRITER_LOCK)
        running = cursor.fetchone()[0]
        while running:
            if time.monotonic() > deadline:
                logger.warning("inbox writers still running after %s s: not waiting for them", _WRITERS_WAIT_SECONDS)
                return
            time.sleep(0.002)
            cursor.execute(_WRITERS_IN_FLIGHT_SQL + " AND virtualtransaction = ANY(%s)", [*_WRITER_LOCK, running])
            running = cursor.fetchone()[0]


def _watched(user_ids: set[int]) -> set[int]:
    """Which of these users' inboxes are watched, as a writer sees it (call inside the writing transaction)."""
    if not user_ids:
        return set()
    now = timezone.now()
    if connection.vendor != "postgresql":
        watched = InboxStream.objects.filter(user_id__in=user_ids, present_until__gt=now)
        return set(watched.values_list("user_id", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock_shared(%s, %s)", _WRITER_LOCK)
        # One array parameter for a chunk's thousands of recipients.
        table = InboxStream._meta.db_table
        cursor.execute(
            f"SELECT user_id FROM {table} WHERE user_id = ANY(%s::bigint[]) AND present_until > %s",
            [integer_array_param(user_ids), now],
        )
        return {user_id for (user_id,) in cursor.fetchall()}


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
    written: dict[int, list[Entry]] = {}
    for recipient_id, seq, kind, notification_id, _ in rows:
        written.setdefault(recipient_id, []).append((seq, kind, notification_id))
    transaction.on_commit(lambda: _stream_push(written))


def _stream_push(written: dict[int, list[Entry]]) -> None:
    """After the commit, send each open stream among these users the messages of its new entries, rendered as a
    read of the log renders them, so it need not read the database; past PUSH_RENDERED_MAX streams, or if
    rendering fails, a wake-up to read the log instead."""
    listening = live.listening(written)
    rendered_for = {user_id: written[user_id] for user_id in listening[:PUSH_RENDERED_MAX]}
    try:
        messages = stream_messages(entries_by_user=rendered_for)
    except DatabaseError:
        logger.warning("could not render stream messages: waking the streams to read the log", exc_info=True)
        messages = {}
    pushes: dict[int, live.Push | None] = dict.fromkeys(listening)
    for user_id, entries in rendered_for.items():
        if user_id in messages:
            pushes[user_id] = live.Push(first=entries[0][0], last=entries[-1][0], messages=messages[user_id])
    live.publish(pushes)


def sse_message(*, seq: int, event: str, data: dict) -> str:
    return f"id: {seq}\nevent: {event}\ndata: {json.dumps(data, cls=DjangoJSONEncoder)}\n\n"


def stream_messages(*, entries_by_user: Mapping[int, Sequence[Entry]]) -> dict[int, list[str]]:
    """Each user's stream messages for these log entries of theirs, in log order, whether the stream read them or
    their writer pushes them: the notifications in one query, an unread count per user.

    A notification bumped several times is sent once, as it is now, under its latest id; several
    unread-count changes are sent once, with the latest id and the count as it is now.
    """
    latest_of_notification = {
        (user_id, notification_id): seq
        for user_id, entries in entries_by_user.items()
        for seq, kind, notification_id in entries
        if kind == StreamKind.NOTIFICATION
    }
    rows = selectors.notification_rows_of(keys=latest_of_notification)
    messages = {user_id: [] for user_id in entries_by_user}
    for row in rows:
        key = (row["recipient_id"], row["id"])
        if key in latest_of_notification:  # never a row of someone else's under a user's entry
            messages[key[0]].append((latest_of_notification[key], "notification", notification_json(row)))
    for user_id, entries in entries_by_user.items():
        unread_seq = max((seq for seq, kind, _ in entries if kind == StreamKind.UNREAD_COUNT), default=None)
        if unread_seq is not None:
            messages[user_id].append((unread_seq, "unread_count", selectors.inbox_unread_counts(user=user_id)))
    return {
        user_id: [sse_message(seq=seq, event=event, data=data) for seq, event, data in sorted(unsorted)]
        for user_id, unsorted in messages.items()
    }


@transaction.atomic(savepoint=False)
def stream_log_notifications(*, written: Sequence[tuple[int, int]]) -> None:
    """Each created or bumped notification (id, recipient id) of a watched inbox goes on its recipient's stream,
    then their new unread count."""
    watched = _watched({recipient_id for _, recipient_id in written})
    entries = []
    for recipient_id, notification_id in sorted((recipient, id_) for id_, recipient in written if recipient in watched):
        entries.append((recipient_id, StreamKind.NOTIFICATION, notification_id))
        entries.append((recipient_id, StreamKind.UNREAD_COUNT, None))
    _stream_append(entries)


@transaction.atomic(savepoint=False)
def stream_log_unread_count(*, user_ids: Iterable[int]) -> None:
    """A new unread count on the streams of these users whose inboxes are watched."""
    watched = _watched(set(user_ids))
    _stream_append([(user_id, StreamKind.UNREAD_COUNT, None) for user_id in sorted(watched)])


def stream_log_prune(*, older_than: timedelta | None = None) -> int:
    """Forget stream entries past the replay window: no client can still replay them (a reconnect replays
    after its last id, which a watch younger than the window keeps), and one away longer starts afresh."""
    older_than = _replay_window() if older_than is None else older_than
    deleted, _ = StreamEntry.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted
