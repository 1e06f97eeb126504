"""Reads of the inbox."""

import json
from collections.abc import Iterable

from django.db import connection
from django.db.models import Count, Q, QuerySet

from video_platform.actions import ActionKind
from video_platform.celery import app as celery_app
from video_platform.models import Block, Event, EventStatus, Profile
from video_platform.notification_types import CATEGORIES

from . import policy
from .models import InboxStream, Notification, StreamEntry, StreamKind
from .rendering import NOTIFICATION_ROW


def audience_facts(actor_id: int, user_ids: Iterable[int]) -> tuple[set[int], dict[int, list[str]]]:
    """Among ``user_ids``: who blocked the actor, and who muted which types, in one query.

    A ``values_list`` queryset of ids is used as a subquery, sparing a thousand-parameter IN list. Plain SQL:
    a post's fan-out asks once per chunk, and building the ORM's union cost more than running it.
    """
    if isinstance(user_ids, QuerySet):
        among, among_params = user_ids.query.sql_with_params()
    else:
        user_ids = list(user_ids)
        if not user_ids:
            return set(), {}
        among, among_params = ", ".join(["%s"] * len(user_ids)), user_ids
    # One round trip for both facts, each row saying which fact it is (a block has no muted types).
    profiles, blocks = Profile._meta.db_table, Block._meta.db_table
    sql = (
        f"SELECT user_id, muted_types FROM {profiles} WHERE user_id IN ({among}) AND muted_types <> %s UNION ALL"
        f" SELECT blocker_id, NULL FROM {blocks} WHERE blocked_id = %s AND blocker_id IN ({among})"
    )
    blocked, muted = set(), {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [*among_params, "[]", actor_id, *among_params])
        for user_id, muted_types in cursor.fetchall():
            if muted_types is None:
                blocked.add(user_id)
            else:
                muted[user_id] = json.loads(muted_types) if isinstance(muted_types, str) else muted_types
    return blocked, muted


def _in_inbox(notifications: QuerySet, *, user, category: str | None, unread: bool | None) -> QuerySet:
    notifications = notifications.filter(recipient=user)
    if category and category != "all":
        notifications = notifications.filter(category=category)
    if unread is not None:
        notifications = notifications.filter(unread=unread)
    return notifications


def inbox_notifications(*, user, category: str | None = None, unread: bool | None = None) -> QuerySet:
    return _in_inbox(Notification.objects.all(), user=user, category=category, unread=unread)


def unread_conversation_ids(*, user) -> set[int]:
    unread_messages = inbox_notifications(user=user, category="messages", unread=True)
    return set(unread_messages.exclude(conversation=None).values_list("conversation_id", flat=True))


def share_group_sources(*, notification: Notification) -> list[Event]:
    """Staff only: the share events a creator's share group most likely counts.

    A group keeps no event (many shares bump one row), so its shares are matched as
    event_expected_group_rows does: same video, made after the recipient's previous group of it was last
    bumped and before this one was, and not naming the recipient (a tag or DM to them is not in the group).
    """
    earlier = (
        Notification.objects.filter(
            recipient_id=notification.recipient_id,
            type=notification.type,
            video_id=notification.video_id,
            updated_at__lt=notification.created_at,
        )
        .order_by("-updated_at")
        .values_list("updated_at", flat=True)
        .first()
    )
    events = Event.objects.filter(
        kind=ActionKind.SHARE, video_id=notification.video_id, created_at__lte=notification.updated_at
    )
    if earlier is not None:
        events = events.filter(created_at__gt=earlier)
    recipient = notification.recipient_id
    return [
        event
        for event in events.select_related("actor").order_by("created_at", "pk")
        if recipient not in event.action.tagged | event.action.recipients
    ]


def inbox_notification_rows(
    *, user, category: str | None = None, unread: bool | None = None, changed_after: int | None = None
) -> QuerySet:
    """The inbox as rows of rendering.NOTIFICATION_ROW, what rendering.notification_render reads: building
    model instances for a page's notifications and their joined users, profiles and videos cost more than
    the query.

    ``changed_after``: only notifications created or bumped after that point of the user's stream (its log
    is in commit order; ``updated_at`` is not, so a time could miss one committed late).
    """
    rows = _in_inbox(Notification.objects.values(*NOTIFICATION_ROW), user=user, category=category, unread=unread)
    if changed_after is not None:
        changed = StreamEntry.objects.filter(recipient=user, kind=StreamKind.NOTIFICATION, seq__gt=changed_after)
        rows = rows.filter(pk__in=changed.values("notification_id"))
    return rows


def notification_rows_of(*, keys: Iterable[tuple[int, int]]) -> QuerySet:
    """The notifications of these (recipient id, notification id) pairs as rows of rendering.NOTIFICATION_ROW
    with their ``recipient_id``, in one query (several users' stream messages at once). It may return a row of
    one pair's notification id under another of the recipients: the caller matches rows to its pairs."""
    keys = list(keys)
    rows = Notification.objects.values("recipient_id", *NOTIFICATION_ROW)
    if not keys:
        return rows.none()
    recipient_ids, notification_ids = zip(*keys, strict=True)
    return rows.filter(recipient_id__in=set(recipient_ids), pk__in=notification_ids)


# Unread counts are exact up to this, as Mastodon caps its count; past it they read as the cap, `capped: true`.
UNREAD_COUNT_CAP = 999

# One statement: for each category, a count of at most CAP + 1 entries of the partial index inbox_unread
# (recipient, category) WHERE unread, so 100k unread cost what 1000 per category do. Portable (SQLite runs
# it too); one correlated subquery rather than one per category, which took longer to plan than to run.
_UNREAD_COUNTS_SQL = (
    "SELECT c.category, (SELECT count(*) FROM (SELECT 1 FROM {table} AS n WHERE n.recipient_id = %s"
    " AND n.category = c.category AND n.unread LIMIT {limit}) AS unread_rows) FROM ({categories}) AS c"
).format(
    table=Notification._meta.db_table,
    limit=UNREAD_COUNT_CAP + 1,
    categories=" UNION ALL ".join(["SELECT %s AS category"] * len(CATEGORIES)),
)


def inbox_unread_counts(*, user) -> dict:
    """``{total, by_category, capped}`` of a user (or a user id), counted over the partial unread index, no
    counter kept on write.

    Each category is exact up to UNREAD_COUNT_CAP and reads as the cap past it; ``total`` likewise, and
    ``capped`` is true when the total is over the cap (so a category shown at the cap may be more). A
    category below the cap is always exact. One plain query: the badge polls this, and building the ORM
    query cost more than running it.
    """
    with connection.cursor() as cursor:
        cursor.execute(_UNREAD_COUNTS_SQL, [user if isinstance(user, int) else user.pk, *CATEGORIES])
        counted = dict(cursor.fetchall())
    total = sum(counted.values())  # each category counted to CAP + 1 at most: over the cap iff the true total is
    by_category = {category: min(counted[category], UNREAD_COUNT_CAP) for category in CATEGORIES}
    return {"total": min(total, UNREAD_COUNT_CAP), "by_category": by_category, "capped": total > UNREAD_COUNT_CAP}


def unread_count_label(count: int, *, capped: bool) -> str:
    """How a page shows one of inbox_unread_counts' numbers: "999+" for one at the cap when the counts are capped."""
    return f"{count}+" if capped and count >= UNREAD_COUNT_CAP else str(count)


def inbox_stream_position(*, user) -> int:
    """The last sequence number on the user's stream (0 before anything happened)."""
    return InboxStream.objects.filter(user=user).values_list("last_seq", flat=True).first() or 0


def inbox_stream_replayable_after(*, user, seq: int) -> bool:
    """Whether the stream log holds everything after ``seq``: an id of the current watch (the log is written
    only while the inbox is watched, from ``present_from_seq``), not one the stream has not reached, nor one
    the log has pruned after. Sequence numbers have no gaps."""
    stream = InboxStream.objects.filter(user=user).values_list("last_seq", "present_from_seq").first()
    position, watched_from = stream or (0, 0)
    if not watched_from <= seq <= position:
        return False
    return seq == position or StreamEntry.objects.filter(recipient=user, seq=seq + 1).exists()


def events_visible(*, user) -> QuerySet:
    """An event is visible to its actor and to staff only."""
    events = Event.objects.all()
    return events if user.is_staff else events.filter(actor=user)


def event_expected_group_rows(*, event: Event) -> QuerySet:
    """The open-group rows a delivered share or like most likely bumped.

    Grouped rows carry no event (many events bump one row), so they are matched by recipient, type and
    video as the policy decides them, and by time: created before the event was done, bumped after it was
    written. A group read and reopened in that window can match twice.
    """
    if event.status != EventStatus.DONE:
        return Notification.objects.none()
    grouped = [d for d in policy.deliveries(event.action, blocked_actor=(), muted={}) if d.grouped]
    if not grouped:
        return Notification.objects.none()
    match = Q()
    for delivery in grouped:
        match |= Q(recipient_id=delivery.recipient_id, type=delivery.type.value)
    return (
        Notification.objects.filter(match, video_id=event.video_id, event__isnull=True)
        .filter(created_at__lte=event.done_at, updated_at__gte=event.created_at)
        .select_related("recipient", "actor")
        .order_by("recipient_id", "created_at")
    )


def event_audience(*, event: Event) -> list[policy.Verdict]:
    """Who the policy says this event reaches directly, and why anyone was left out, judged by today's
    blocks and mutes (they may have changed since delivery). A post's followers are not listed: they are
    reached in chunks (see the event's chunks)."""
    action = event.action
    blocked, muted = audience_facts(event.actor_id, policy.candidate_ids(action))
    return policy.audience(action, blocked_actor=blocked, muted=muted)


def delivery_health(*, since) -> dict:
    """Counts an operator checks to see whether delivery keeps up."""
    events = dict(Event.objects.filter(created_at__gte=since).values_list("status").annotate(n=Count("id")).order_by())
    pending = Event.objects.filter(status=EventStatus.PENDING)
    oldest_pending = pending.order_by("created_at").values_list("created_at", flat=True).first()
    return {
        "events": {status: events.get(status, 0) for status in EventStatus.values},
        "notifications_created": Notification.objects.filter(created_at__gte=since).count(),
        "notifications_touched": Notification.objects.filter(updated_at__gte=since).count(),
        "oldest_pending_created_at": oldest_pending,
        "pending_total": pending.count(),
        "failed_total": Event.objects.filter(status=EventStatus.FAILED).count(),
    }


def worker_heartbeat(*, timeout: float = 1.0) -> dict:
    """Ask every Celery worker to answer a ping: {"workers": [names], "error": text or ""}."""
    try:
        replies = celery_app.control.inspect(timeout=timeout).ping() or {}
    except Exception as exc:  # The broker itself is down: that is what the operator must see.
        return {"workers": [], "error": f"{type(exc).__name__}: {exc}"}
    return {"workers": sorted(replies), "error": ""}
