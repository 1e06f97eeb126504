from django.conf import settings
from django.db import models
from django.db.models import Q

from video_platform.models import Event
from video_platform.notification_types import CATEGORIES, NotificationType

User = settings.AUTH_USER_MODEL


# A key of the hot tables: the ORM cascades its deletes, no database constraint checks each row a fan-out
# writes, and the index a delete needs, if any, is declared in Meta (see Notification).
WITHOUT_CONSTRAINT_OR_INDEX = {"db_constraint": False, "db_index": False}

NOTIFICATION_TYPE_CHOICES = [(t.value, t.value) for t in NotificationType]
# A post's rows: left out of the actor and video indexes, they go with the post's event.
POST = Q(type=NotificationType.POST.value)


def cascade_except_post_rows(collector, field, sub_objs, using):
    """CASCADE, through this key's index, which holds no row of a post: a post's rows go with its event."""
    models.CASCADE(collector, field, sub_objs.exclude(POST), using)


def cascade_post_rows_else_set_null(collector, field, sub_objs, using):
    """A post's rows go with the post's event, which goes with its video and its creator; any other row stays,
    without its event."""
    models.CASCADE(collector, field, sub_objs.filter(POST), using)
    models.SET_NULL(collector, field, sub_objs.exclude(POST), using)


# The collector would otherwise read every row of the key before the handler narrows it, without an index.
cascade_except_post_rows.lazy_sub_objs = True
cascade_post_rows_else_set_null.lazy_sub_objs = True


class EventChunk(models.Model):
    """One delivered chunk of a post's follower fan-out; its unique row makes redelivery a no-op."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    notification_count = models.PositiveIntegerField(default=0)
    done_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "index"], name="event_chunk_once")]

    def __str__(self) -> str:
        return f"chunk {self.index} of event {self.event_id}"


class Notification(models.Model):
    """One row of an inbox: the hot table, which a post writes one row per follower of.

    Its keys have no database constraint. Django never cascades in the database: deleting a user, video,
    conversation or event runs ``on_delete`` here, in the ORM, with or without one; all a constraint adds
    is a check of each inserted row, and five of them cut COPY into this table to about a quarter (figures
    in migration 0010). No key has an index of its own where a composite one starts with it (recipient,
    event); the others have partial ones, so a delete finds its rows without reading the table and a row
    whose key is NULL (every post's conversation) costs no index entry. A post's rows, one per follower with
    the same actor and video, are in neither of those two indexes: they go with the post's event.
    """

    recipient = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="notifications", **WITHOUT_CONSTRAINT_OR_INDEX
    )
    type = models.CharField(max_length=10, choices=NOTIFICATION_TYPE_CHOICES)
    category = models.CharField(max_length=10, choices=[(c, c) for c in CATEGORIES])
    # Always NULL for anonymous types (share): the sharer is never stored on the creator's notification.
    actor = models.ForeignKey(
        User, on_delete=cascade_except_post_rows, null=True, blank=True, related_name="+", **WITHOUT_CONSTRAINT_OR_INDEX
    )
    video = models.ForeignKey(
        "platform.Video",
        on_delete=cascade_except_post_rows,
        null=True,
        blank=True,
        related_name="+",
        **WITHOUT_CONSTRAINT_OR_INDEX,
    )
    conversation = models.ForeignKey(
        "platform.Conversation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        **WITHOUT_CONSTRAINT_OR_INDEX,
    )
    # The single event behind an ungrouped notification; NULL for groups, which many events bump.
    event = models.ForeignKey(
        Event,
        on_delete=cascade_post_rows_else_set_null,
        null=True,
        blank=True,
        related_name="notifications",
        **WITHOUT_CONSTRAINT_OR_INDEX,
    )
    excerpt = models.CharField(max_length=120, blank=True)
    count = models.PositiveIntegerField(default=1)
    unread = models.BooleanField(default=True)
    # "<type>:<video id>" while the group is open (unread); NULL once read or for ungrouped types.
    # NULL, not "", so the unique (recipient, group_key) constraint holds only for open groups.
    group_key = models.CharField(max_length=40, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "recipient"], name="notification_once_per_event"),
            # Only grouped rows have a key: a post's row, one per follower, costs this index nothing.
            models.UniqueConstraint(
                fields=["recipient", "group_key"], name="notification_open_group", condition=Q(group_key__isnull=False)
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "-updated_at", "-id"], name="inbox_by_recency"),
            models.Index(fields=["recipient", "category"], name="inbox_unread", condition=Q(unread=True)),
            # For deletes only: the rows a deleted actor, video or conversation leaves behind. A post's rows, which
            # all share one actor and one video, are left out: chunks writing them at once contended on these
            # two indexes (bench/README.md). They go with their event instead (cascade_post_rows_else_set_null).
            models.Index(fields=["actor"], name="notification_by_actor", condition=Q(actor__isnull=False) & ~POST),
            models.Index(fields=["video"], name="notification_by_video", condition=Q(video__isnull=False) & ~POST),
            models.Index(
                fields=["conversation"], name="notification_by_conversation", condition=Q(conversation__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} for {self.recipient_id} (x{self.count})"


class StreamKind(models.TextChoices):
    NOTIFICATION = "notification", "notification"
    UNREAD_COUNT = "unread_count", "unread_count"


class InboxStream(models.Model):
    """The last stream sequence number handed out to a user, and until when their stream log is written.

    Bumping this row in the transaction that writes the notification locks it until commit, so a
    user's writers are serialised and their sequence numbers commit in order: a client that has seen
    id N has seen every id below N. Timestamps (``updated_at``) cannot promise that — two workers
    commit in either order — so ``Last-Event-ID`` replays from the log below, not from the clock.

    The log is written only while the user's inbox is watched (``inbox/stream_log.py``, presence): up to
    ``present_until``. ``present_from_seq`` is the first id of the current watch; the log holds everything
    from there, and nothing says what happened between an older id and it.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, primary_key=True, related_name="+")
    last_seq = models.PositiveBigIntegerField(default=0)
    present_from_seq = models.PositiveBigIntegerField(default=0, db_default=0)
    present_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"stream of {self.user_id} at {self.last_seq}"


class StreamEntry(models.Model):
    """One message of a user's live stream (/api/inbox/stream/), kept so a reconnect replays what it missed.

    It stores only what changed (a notification id, or that the unread count did); the stream renders
    the notification through the API's serializer, and so through the privacy policy, when it sends it.
    """

    # No database constraints: two rows per recipient of a fan-out, read only by their recipient, gone after
    # the replay window; the stream skips an entry whose notification is gone. The ORM still cascades.
    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+", **WITHOUT_CONSTRAINT_OR_INDEX)
    seq = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=12, choices=StreamKind.choices)
    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, null=True, blank=True, related_name="+", db_constraint=False
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["recipient", "seq"], name="stream_entry_once")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.seq} for {self.recipient_id}"


class HeldShare(models.Model):
    """An anonymous notification waiting for its batch window to close (SHARE_NOTIFICATION_BATCH_SECONDS).

    Released into the recipient's group together with every other share of the same window, so the
    arrival time does not point at one sharer. Released and deleted in one transaction: exactly once.
    """

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    # Indexed by held_share_once_per_event, which starts with it.
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+", db_index=False)
    type = models.CharField(max_length=10, choices=NOTIFICATION_TYPE_CHOICES)
    held_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "recipient"], name="held_share_once_per_event")]

    def __str__(self) -> str:
        return f"held {self.type} for {self.recipient_id} (event {self.event_id})"


class ShareBatchWindow(models.Model):
    """The presenter's share batch window in DEMO_MODE (one row); see inbox/batching.py."""

    seconds = models.PositiveIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"share batch window {self.seconds} s" if self.seconds else "share batching off"
