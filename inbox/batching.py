"""Share batching: anonymous shares wait for their batch window and reach the creator together at its end.

The window in force: production takes it from settings (SHARE_NOTIFICATION_BATCH_SECONDS). In DEMO_MODE a
presenter can turn batching on and off from the inbox page, so the window is read from the database, which
the web server and the worker share, whenever one was chosen. Held notifications and the shares' public
count are released together, a window's all at once (docs/privacy.md).
"""

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Min, QuerySet
from django.utils import timezone

from video_platform.actions import RecordedAction
from video_platform.models import Event, EventStatus, Share
from video_platform.notification_types import NotificationType
from video_platform.services import shares_release

from . import policy
from .models import HeldShare, ShareBatchWindow
from .notifications import notifications_write
from .policy import Delivery

# The window a presenter can switch on: short enough to wait for in front of an audience.
DEMO_BATCH_SECONDS = 30


def share_batch_seconds() -> int:
    if settings.DEMO_MODE:
        chosen = ShareBatchWindow.objects.filter(pk=1).values_list("seconds", flat=True).first()
        if chosen is not None:
            return chosen
    return settings.SHARE_NOTIFICATION_BATCH_SECONDS


@transaction.atomic
def share_batch_seconds_set(*, seconds: int) -> ShareBatchWindow:
    """DEMO_MODE only: choose the window (0 turns batching off; held shares go out at the next release)."""
    if not settings.DEMO_MODE:
        raise PermissionError("The share batch window can be changed at runtime only in DEMO_MODE.")
    window, _ = ShareBatchWindow.objects.update_or_create(pk=1, defaults={"seconds": seconds})
    return window


def batch_window_start(moment: datetime, seconds: int) -> datetime:
    """Start of the share batch window ``moment`` falls in; windows are aligned to the Unix epoch."""
    stamp = moment.timestamp()
    return datetime.fromtimestamp(stamp - stamp % seconds, tz=UTC)


def held_shares_release_at(held_at: datetime) -> datetime:
    """When a share held at ``held_at`` is released: the end of its batch window."""
    window = share_batch_seconds() or 1
    return batch_window_start(held_at, window) + timedelta(seconds=window)


def hold_anonymous(event: Event, deliveries: Sequence[Delivery]) -> list[Delivery]:
    """With share batching on, anonymous deliveries wait for their window's release instead."""
    if not share_batch_seconds():
        return []
    held = [d for d in deliveries if not d.shows_actor]
    now = timezone.now()
    HeldShare.objects.bulk_create(
        [HeldShare(recipient_id=d.recipient_id, event=event, type=d.type, held_at=now) for d in held],
        ignore_conflicts=True,
    )
    return held


def share_waits_for_window(action: RecordedAction) -> bool:
    """A share the creator is not named in joins the public count only at its batch window's release."""
    return bool(share_batch_seconds()) and policy.share_hides_sharer_from_creator(action)


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
    window = share_batch_seconds()
    held_rows, shares = HeldShare.objects.all(), Share.objects.filter(released_at__isnull=True)
    if window and not everything:
        closed_before = batch_window_start(now, window)
        held_rows, shares = held_rows.filter(held_at__lt=closed_before), shares.filter(created_at__lt=closed_before)
    if recipient_ids is not None:
        recipient_ids = list(recipient_ids)
        held_rows, shares = (
            held_rows.filter(recipient_id__in=recipient_ids),
            shares.filter(video__creator_id__in=recipient_ids),
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
            notifications_write(row.event, [Delivery(row.recipient_id, NotificationType(row.type))])
        HeldShare.objects.filter(pk__in=[row.pk for row in held]).delete()
        shares_release(shares=shares, now=now)
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
