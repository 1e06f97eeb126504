"""Delivery: events in, inbox rows out, each event applied to each inbox exactly once."""

import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, JSONField, Min, QuerySet, Value
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

from video_platform.models import Block, Follow, Profile, Share

from . import batching, live, policy
from .models import Event, EventChunk, EventStatus, HeldShare, InboxStream, Notification, StreamEntry, StreamKind
from .policy import Action, ActionKind, Delivery

logger = logging.getLogger(__name__)
# How long a reconnecting stream can replay what it missed (Last-Event-ID).
STREAM_LOG_DAYS = 7

NOTIFICATION_COLUMNS = (
    "recipient_id", "type", "category", "actor_id", "video_id", "conversation_id", "event_id",
    "excerpt", "count", "unread", "group_key", "created_at", "updated_at",
)  # fmt: skip


def event_record(*, kind: ActionKind, actor, video=None, payload: dict) -> Event:
    """Write the outbox row of an action; call inside the action's transaction. Fan-out starts on commit."""
    from .tasks import fan_out_event

    event = Event.objects.create(kind=kind, actor=actor, video=video, payload=payload)
    transaction.on_commit(lambda: _send(fan_out_event, event.pk))
    return event


def _send(task, *args) -> bool:
    """Queue a task; with the broker down, log and leave the event pending for the sweeper to re-send.

    The action has committed by now: a broker outage must not turn it into an error for the user.
    """
    try:
        task.delay(*args)
    except BrokerUnavailable as error:
        logger.warning("broker unavailable (%s): %s%r left for the sweeper", error, task.name, args)
        return False
    return True


def action_from_event(event: Event) -> Action:
    payload = event.payload
    return Action(
        kind=ActionKind(event.kind),
        actor_id=event.actor_id,
        creator_id=event.video.creator_id if event.video_id else None,
        channel=payload.get("channel"),
        tagged=frozenset(payload.get("tagged", ())),
        recipients=frozenset(payload.get("recipients", ())),
        mentioned=frozenset(payload.get("mentioned", ())),
        followee_id=payload.get("followee"),
    )


def _audience_facts(actor_id: int, user_ids: Iterable[int]) -> tuple[set[int], dict[int, list[str]]]:
    """Among ``user_ids``: who blocked the actor, and who muted which types, in one query.

    A ``values_list`` queryset of ids is used as a subquery, sparing a thousand-parameter IN list.
    """
    if not isinstance(user_ids, QuerySet):
        user_ids = list(user_ids)
        if not user_ids:
            return set(), {}
    # One round trip for both facts, each row saying which fact it is.
    mutes = (
        Profile.objects.filter(user_id__in=user_ids)
        .exclude(muted_types=[])
        .values_list(Value(False), "user_id", "muted_types")
    )
    blocks = Block.objects.filter(blocked_id=actor_id, blocker_id__in=user_ids).values_list(
        Value(True), "blocker_id", Value(None, output_field=JSONField())
    )
    blocked, muted = set(), {}
    for is_block, user_id, muted_types in mutes.union(blocks, all=True):
        if is_block:
            blocked.add(user_id)
        else:
            muted[user_id] = muted_types
    return blocked, muted


def _rows(event: Event, deliveries: Sequence[Delivery], now) -> list[tuple]:
    payload = event.payload
    conversations = payload.get("conversations", {})
    stamp = connection.ops.adapt_datetimefield_value(now)
    rows = []
    for delivery in deliveries:
        conversation_id = None
        if delivery.type == policy.NotificationType.MESSAGE:
            conversation_id = conversations.get(str(delivery.recipient_id), payload.get("conversation_id"))
        rows.append((
            delivery.recipient_id,
            delivery.type.value,
            policy.CATEGORY_OF_TYPE[delivery.type],
            event.actor_id if delivery.shows_actor else None,
            event.video_id,
            conversation_id,
            None if delivery.grouped else event.pk,
            policy.excerpt_for(delivery.type, payload.get("text", "")),
            1,
            True,
            f"{delivery.type.value}:{event.video_id}" if delivery.grouped else None,
            stamp,
            stamp,
        ))  # fmt: skip
    return rows


STREAM_ENTRY_COLUMNS = ("recipient_id", "seq", "kind", "notification_id", "created_at")


def _insert_rows(model, columns: Sequence[str], rows: list[tuple], suffix: str = "") -> list[tuple]:
    """INSERT the rows in one statement (in batches off PostgreSQL); return what ``suffix`` RETURNs.

    Fan-outs write thousands of rows per transaction, where building model instances for bulk_create
    would cost more than PostgreSQL's whole insert.
    """
    table = model._meta.db_table
    if connection.vendor == "postgresql":
        batches = [_unnest_source(model, columns, rows)]
    else:
        row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
        batches = [
            (f"VALUES {', '.join([row_sql] * len(batch))}", [value for row in batch for value in row])
            for batch in (rows[start : start + 500] for start in range(0, len(rows), 500))
        ]
    returned = []
    with connection.cursor() as cursor:
        for source, params in batches:
            cursor.execute(f"INSERT INTO {table} ({', '.join(columns)}) {source} {suffix}", params)
            if "RETURNING" in suffix:
                returned += cursor.fetchall()
    return returned


def _unnest_source(model, columns: Sequence[str], rows: list[tuple]) -> tuple[str, list]:
    """The rows as one array per varying column and one value per constant one (most of a fan-out's).

    VALUES would take a placeholder per column and row, and the driver's parsing of thousands of them
    costs more than PostgreSQL's insert; this takes one parameter per column for any number of rows.
    """
    fields = {field.column: field for field in model._meta.concrete_fields}
    selected, constants, arrays, unnested = [], [], [], []
    for index, column in enumerate(columns):
        values = [row[index] for row in rows]
        db_type = fields[column].db_type(connection)
        # The first column (the recipient) always varies in the SQL, so unnest() has an array to expand.
        if index == 0 or any(value != values[0] for value in values):
            selected.append(f"u.{column}")
            unnested.append(column)
            arrays.append((f"%s::{db_type}[]", values))
        else:
            selected.append(f"%s::{db_type}")
            constants.append(values[0])
    sql = (
        f"SELECT {', '.join(selected)} FROM unnest({', '.join(sql for sql, _ in arrays)}) "
        f"AS u({', '.join(unnested)})"
    )
    return sql, [*constants, *(values for _, values in arrays)]


def notifications_write(event: Event, deliveries: Sequence[Delivery]) -> list[int]:
    """Create ungrouped rows (once per event and recipient) and bump open groups; return the row ids."""
    now = timezone.now()
    written = []  # (notification id, recipient id)
    single = [d for d in deliveries if not d.grouped]
    for start in range(0, len(single), 1000):
        written += _insert_rows(
            Notification,
            NOTIFICATION_COLUMNS,
            _rows(event, single[start : start + 1000], now),
            "ON CONFLICT (event_id, recipient_id) DO NOTHING RETURNING id, recipient_id",
        )
    table = Notification._meta.db_table
    for delivery in (d for d in deliveries if d.grouped):
        # One statement, so concurrent workers bumping the same open group keep an exact count.
        written += _insert_rows(
            Notification,
            NOTIFICATION_COLUMNS,
            _rows(event, [delivery], now),
            f"ON CONFLICT (recipient_id, group_key) DO UPDATE SET count = {table}.count + 1, "
            "actor_id = excluded.actor_id, updated_at = excluded.updated_at RETURNING id, recipient_id",
        )
    stream_log_notifications(written=written)
    return [notification_id for notification_id, _ in written]


def _stream_reserve(counts: dict[int, int]) -> dict[int, int]:
    """Take ``counts[user]`` new sequence numbers for each user; return each user's first one."""
    table = InboxStream._meta.db_table
    users = sorted(counts)  # one order for every writer, so two fan-outs never wait on each other in a cycle
    reserved = _insert_rows(
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
    _insert_rows(StreamEntry, STREAM_ENTRY_COLUMNS, rows)
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


def _commit_without_waiting_for_flush() -> None:
    """Let this fan-out transaction commit before its WAL reaches disk (PostgreSQL; call inside it).

    Safe because the outbox can always redo it: a crash loses the newest commits whole and in order,
    so the rows vanish together with the event's done status or chunk claim, and the sweeper delivers
    again, still exactly once. Not for the user action and its event row, nor for a transaction that
    sends tasks on commit which rely on what it wrote.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def event_deliver(*, event_id: int) -> None:
    """Apply an event to every inbox it reaches. A delivered event is never applied again."""
    with transaction.atomic():
        event = Event.objects.select_for_update(of=("self",)).select_related("video").get(pk=event_id)
        if event.status != EventStatus.PENDING:
            return
        if event.chunk_bounds is None:
            action = action_from_event(event)
            blocked, muted = _audience_facts(event.actor_id, policy.candidate_ids(action))
            deliveries = policy.deliveries(action, blocked_actor=blocked, muted=muted)
            held = _hold_anonymous(event, deliveries)
            if event.kind == ActionKind.SHARE and not _share_waits_for_window(action):
                _shares_release(Share.objects.filter(pk=event.payload.get("share_id")), now=timezone.now())
            written = notifications_write(event, [d for d in deliveries if d not in held])
            event.notification_count = len(written) + len(held)
            if event.kind == ActionKind.POST:
                event.chunk_bounds = _post_chunk_bounds(event.actor_id)
            if held:
                # Not done until the held notifications are visible: the release marks it done.
                event.status, event.release_at = EventStatus.HELD, held_shares_release_at(timezone.now())
            elif not event.chunk_bounds:
                event.status, event.done_at = EventStatus.DONE, timezone.now()
                # Planned chunks are sent on commit and need their bounds durable; a finished event does not.
                _commit_without_waiting_for_flush()
            event.save(update_fields=["notification_count", "chunk_bounds", "status", "done_at", "release_at"])
        if event.status == EventStatus.PENDING:
            transaction.on_commit(lambda: _dispatch_missing_chunks(event))


def _hold_anonymous(event: Event, deliveries: Sequence[Delivery]) -> list[Delivery]:
    """With share batching on, anonymous deliveries wait for their window's release instead."""
    if not batching.share_batch_seconds():
        return []
    held = [d for d in deliveries if not d.shows_actor]
    now = timezone.now()
    HeldShare.objects.bulk_create(
        [HeldShare(recipient_id=d.recipient_id, event=event, type=d.type, held_at=now) for d in held],
        ignore_conflicts=True,
    )
    return held


def _share_waits_for_window(action: Action) -> bool:
    """A share the creator is not named in joins the public count only at its batch window's release."""
    return bool(batching.share_batch_seconds()) and policy.share_hides_sharer_from_creator(action)


def _shares_release(shares: QuerySet, *, now: datetime) -> int:
    # The social core imports this module at load time, so its service is looked up when called.
    from video_platform.services import shares_release

    return shares_release(shares=shares, now=now)


def batch_window_start(moment: datetime, seconds: int) -> datetime:
    """Start of the share batch window ``moment`` falls in; windows are aligned to the Unix epoch."""
    stamp = moment.timestamp()
    return datetime.fromtimestamp(stamp - stamp % seconds, tz=UTC)


def held_shares_release_at(held_at: datetime) -> datetime:
    """When a share held at ``held_at`` is released: the end of its batch window."""
    window = batching.share_batch_seconds() or 1
    return batch_window_start(held_at, window) + timedelta(seconds=window)


def held_shares_release(
    *, now: datetime | None = None, everything: bool = False, recipient_ids: Iterable[int] | None = None
) -> int:
    """Release every closed batch window: its held anonymous notifications and its shares' public count,
    a window's all at once, in one transaction. Returns how many notifications were released.

    Windows are aligned to the epoch, so however often this runs, a share made in one window reaches the
    creator — inbox, stream, unread count, share count, analytics — only after that window has closed,
    together with the other shares made in it. With SHARE_RELEASE_MIN_CROWD, a creator's closed windows
    holding fewer shares than that are carried until the crowd is reached or an epoch-aligned boundary of
    SHARE_RELEASE_MAX_DELAY_SECONDS passes. ``everything`` releases open windows too, crowd or not
    (POST /api/qa/release-held/); ``recipient_ids`` limits the release to those creators' inboxes and
    videos (a scenario run's own users). An event whose last held share is released is done.
    """
    now = now or timezone.now()
    window = batching.share_batch_seconds()
    held_rows, shares = HeldShare.objects.all(), Share.objects.filter(released_at__isnull=True)
    if window and not everything:
        closed_before = batch_window_start(now, window)
        held_rows, shares = held_rows.filter(held_at__lt=closed_before), shares.filter(created_at__lt=closed_before)
    if recipient_ids is not None:
        recipient_ids = list(recipient_ids)
        held_rows, shares = held_rows.filter(recipient_id__in=recipient_ids), shares.filter(
            video__creator_id__in=recipient_ids
        )
    with transaction.atomic():
        if window and not everything:
            carried = _creators_below_min_crowd(shares, now=now)
            if carried:
                held_rows = held_rows.exclude(recipient_id__in=carried)
                shares = shares.exclude(video__creator_id__in=carried)
                next_release = batch_window_start(now, window) + timedelta(seconds=window)
                _held_events_postpone(creator_ids=carried, release_at=next_release)
        held = list(held_rows.select_for_update(skip_locked=True, of=("self",)).select_related("event").order_by("pk"))
        for row in held:
            notifications_write(row.event, [Delivery(row.recipient_id, policy.NotificationType(row.type))])
        HeldShare.objects.filter(pk__in=[row.pk for row in held]).delete()
        _shares_release(shares, now=now)
        released_event_ids = {row.event_id for row in held}
        Event.objects.filter(pk__in=released_event_ids, status=EventStatus.HELD).exclude(
            pk__in=HeldShare.objects.filter(event_id__in=released_event_ids).values("event_id")
        ).update(status=EventStatus.DONE, done_at=now, release_at=None)
    return len(held)


def _creators_below_min_crowd(closed_shares: QuerySet, *, now: datetime) -> set[int]:
    """Creators whose closed windows hold fewer shares than SHARE_RELEASE_MIN_CROWD, carried to the next one.

    A carried window is released at the latest at the first epoch-aligned boundary of
    SHARE_RELEASE_MAX_DELAY_SECONDS after its oldest share, so a lone share in a quiet hour is placed in
    that hour, not in its window.
    """
    min_crowd, max_delay = settings.SHARE_RELEASE_MIN_CROWD, settings.SHARE_RELEASE_MAX_DELAY_SECONDS
    if min_crowd <= 1 or max_delay <= 0:
        return set()
    crowds = closed_shares.values("video__creator_id").annotate(crowd=Count("pk"), oldest=Min("created_at"))
    carried = set()
    for row in crowds.order_by():
        latest_release = batch_window_start(row["oldest"], max_delay) + timedelta(seconds=max_delay)
        if row["crowd"] < min_crowd and latest_release > now:
            carried.add(row["video__creator_id"])
    return carried


def _held_events_postpone(*, creator_ids: Iterable[int], release_at: datetime) -> None:
    """Held events of carried creators answer the next window's end as their release time."""
    carried_events = HeldShare.objects.filter(recipient_id__in=list(creator_ids)).values("event_id")
    Event.objects.filter(pk__in=carried_events, status=EventStatus.HELD).update(release_at=release_at)


def _post_chunk_bounds(creator_id: int) -> list[int]:
    """Split the creator's followers into id ranges of POST_FAN_OUT_CHUNK_SIZE, one small query each."""
    size = settings.POST_FAN_OUT_CHUNK_SIZE
    followers = Follow.objects.filter(followee_id=creator_id).order_by("follower_id")
    bounds, last = [], 0
    while True:
        chunk_end = followers.filter(follower_id__gt=last).values_list("follower_id", flat=True)[size - 1 : size]
        upper = chunk_end.first()
        if upper is None:
            remaining_max = followers.filter(follower_id__gt=last).values_list("follower_id", flat=True).last()
            if remaining_max is not None:
                bounds.append(remaining_max)
            return bounds
        bounds.append(upper)
        last = upper


def _dispatch_missing_chunks(event: Event) -> None:
    from .tasks import fan_out_post_chunk

    done = set(EventChunk.objects.filter(event=event).values_list("index", flat=True))
    for index in range(len(event.chunk_bounds)):
        if index not in done and not _send(fan_out_post_chunk, event.pk, index):
            return


def post_chunk_deliver(*, event_id: int, index: int) -> None:
    """Deliver ``post`` notifications to one chunk of a new post's followers, exactly once."""
    try:
        with transaction.atomic():
            _commit_without_waiting_for_flush()
            # Claiming the chunk first makes a concurrent duplicate wait here, then fail, writing nothing.
            chunk = EventChunk.objects.create(event_id=event_id, index=index)
            event = Event.objects.select_related("video").get(pk=event_id)
            bounds = event.chunk_bounds
            lower = bounds[index - 1] if index else 0
            followers = Follow.objects.filter(
                followee_id=event.actor_id, follower_id__gt=lower, follower_id__lte=bounds[index]
            ).values_list("follower_id", flat=True)
            follower_ids = list(followers)
            blocked, muted = _audience_facts(event.actor_id, followers)
            deliveries = policy.follower_deliveries(
                action_from_event(event), follower_ids, blocked_actor=blocked, muted=muted
            )
            written = len(notifications_write(event, deliveries))
            EventChunk.objects.filter(pk=chunk.pk).update(notification_count=written)
            # The row update serialises the chunks of one event, so exactly one sees the last chunk land.
            Event.objects.filter(pk=event_id).update(
                chunks_done=F("chunks_done") + 1, notification_count=F("notification_count") + written
            )
            if Event.objects.filter(pk=event_id, chunks_done__gte=len(bounds)).exists():
                Event.objects.filter(pk=event_id, status=EventStatus.PENDING).update(
                    status=EventStatus.DONE, done_at=timezone.now()
                )
    except IntegrityError:
        if not EventChunk.objects.filter(event_id=event_id, index=index).exists():
            raise


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
        if not _send(fan_out_event, event_id):
            break
    return len(event_ids)


def events_redispatch_pending(*, older_than_seconds: int | None = None, limit: int = 1000) -> int:
    """Re-send events still pending a while after their last dispatch: a broker outage loses nothing."""
    if older_than_seconds is None:
        older_than_seconds = settings.EVENT_REDISPATCH_AFTER_SECONDS
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    stale = Event.objects.filter(status=EventStatus.PENDING, dispatched_at__lt=cutoff).order_by("dispatched_at")
    return events_redispatch(event_ids=stale.values_list("pk", flat=True)[:limit])


def notification_mark_read(*, notification: Notification) -> None:
    """Reading a group closes it: the next share or like opens a new one."""
    notifications_mark_read(notification_ids=[notification.pk])


@transaction.atomic
def notifications_mark_read(*, notification_ids: Iterable[int]) -> int:
    """Mark these notifications read, closing their groups; open streams get the new unread counts."""
    unread = Notification.objects.filter(pk__in=list(notification_ids), unread=True)
    recipient_ids = set(unread.values_list("recipient_id", flat=True))
    marked = unread.update(unread=False, group_key=None)
    if marked:
        stream_log_unread_count(user_ids=recipient_ids)
    return marked


def notifications_mark_all_read(*, user, category: str | None = None) -> int:
    unread = Notification.objects.filter(recipient=user, unread=True)
    if category and category != "all":
        unread = unread.filter(category=category)
    with transaction.atomic():
        marked = unread.update(unread=False, group_key=None)
        if marked:
            stream_log_unread_count(user_ids=[user.pk])
    return marked
