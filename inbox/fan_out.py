"""Fan-out: an event in, the inbox rows the privacy rule (``inbox/policy.py``) says it causes out, each event
applied to each inbox exactly once. A new post reaches its creator's followers in chunks, one task each."""

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from video_platform.actions import ActionKind
from video_platform.models import Event, EventStatus, Follow, Share
from video_platform.services import shares_release

from . import batching, policy
from .dispatch import post_chunks_dispatch
from .models import EventChunk
from .notifications import notifications_write
from .selectors import audience_facts
from .sql import commit_without_waiting_for_flush


def event_deliver(*, event_id: int) -> None:
    """Apply an event to every inbox it reaches. A delivered event is never applied again."""
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event_id)
        if event.status != EventStatus.PENDING:
            return
        if event.chunk_bounds is None:
            action = event.action
            blocked, muted = audience_facts(event.actor_id, policy.candidate_ids(action))
            deliveries = policy.deliveries(action, blocked_actor=blocked, muted=muted)
            held = batching.hold_anonymous(event, deliveries)
            # A share joins the public count here unless it did when it was made, or waits for its window.
            releasing = action.kind == ActionKind.SHARE and not action.share_counted
            if releasing and not batching.share_waits_for_window(action):
                shares_release(shares=Share.objects.filter(pk=action.share_id), now=timezone.now())
            written = notifications_write(event, [d for d in deliveries if d not in held])
            event.notification_count = len(written) + len(held)
            if event.kind == ActionKind.POST:
                event.chunk_bounds = _post_chunk_bounds(event.actor_id)
            if held:
                # Not done until the held notifications are visible: the release marks it done.
                event.status, event.release_at = EventStatus.HELD, batching.held_shares_release_at(timezone.now())
            elif not event.chunk_bounds:
                event.status, event.done_at = EventStatus.DONE, timezone.now()
                # Planned chunks are sent on commit and need their bounds durable; a finished event does not.
                commit_without_waiting_for_flush()
            event.save(update_fields=["notification_count", "chunk_bounds", "status", "done_at", "release_at"])
        if event.status == EventStatus.PENDING:
            transaction.on_commit(lambda: post_chunks_dispatch(event))


def _post_chunk_bounds(creator_id: int) -> list[int]:
    """Split the creator's followers into id ranges of POST_FAN_OUT_CHUNK_SIZE: the last follower id of each.

    One statement: each chunk's end is found from the one before by skipping a chunk of the index, and the
    last follower closes the last range. A query per chunk cost a celebrity's post tens of milliseconds
    before its first chunk could start.
    """
    table = Follow._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE ends (follower_id) AS (SELECT 0 UNION ALL SELECT (SELECT f.follower_id FROM {table} f"
            " WHERE f.followee_id = %s AND f.follower_id > ends.follower_id ORDER BY f.follower_id LIMIT 1 OFFSET %s)"
            " FROM ends WHERE ends.follower_id IS NOT NULL)"
            f" SELECT follower_id FROM ends WHERE follower_id > 0 UNION SELECT max(follower_id) FROM {table}"
            " WHERE followee_id = %s ORDER BY 1",
            [creator_id, settings.POST_FAN_OUT_CHUNK_SIZE - 1, creator_id],
        )
        return [follower_id for (follower_id,) in cursor.fetchall() if follower_id is not None]


def post_chunk_deliver(*, event_id: int, index: int) -> None:
    """Deliver ``post`` notifications to one chunk of a new post's followers, exactly once."""
    try:
        with transaction.atomic():
            commit_without_waiting_for_flush()
            event = Event.objects.get(pk=event_id)
            bounds = event.chunk_bounds
            lower = bounds[index - 1] if index else 0
            followers = Follow.objects.filter(
                followee_id=event.actor_id, follower_id__gt=lower, follower_id__lte=bounds[index]
            ).values_list("follower_id", flat=True)
            follower_ids = list(followers)
            blocked, muted = audience_facts(event.actor_id, followers)
            deliveries = policy.follower_deliveries(event.action, follower_ids, blocked_actor=blocked, muted=muted)
            # Claiming the chunk before writing makes a concurrent duplicate wait here, then fail, writing nothing;
            # under the claim every delivery becomes a row (or the chunk fails), so the count is known already.
            EventChunk.objects.create(event_id=event_id, index=index, notification_count=len(deliveries))
            written = len(notifications_write(event, deliveries, claimed=True))
            # One statement: the row update serialises the chunks of one event, and each sees the count the one
            # before it left, so exactly one sees the last chunk land and marks the event done.
            last = Q(chunks_done__gte=len(bounds) - 1, status=EventStatus.PENDING)
            Event.objects.filter(pk=event_id).update(
                chunks_done=F("chunks_done") + 1,
                notification_count=F("notification_count") + written,
                status=Case(When(last, then=Value(EventStatus.DONE)), default=F("status")),
                done_at=Case(When(last, then=Value(timezone.now())), default=F("done_at")),
            )
    except IntegrityError:
        if not EventChunk.objects.filter(event_id=event_id, index=index).exists():
            raise
