from django.conf import settings
from django.db import models
from django.db.models import Q

from video_platform.models import Event
from video_platform.notification_types import CATEGORIES, NotificationType

User = settings.AUTH_USER_MODEL


NOTIFICATION_TYPE_CHOICES = [(t.value, t.value) for t in NotificationType]


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
    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    type = models.CharField(max_length=10, choices=NOTIFICATION_TYPE_CHOICES)
    category = models.CharField(max_length=10, choices=[(c, c) for c in CATEGORIES])
    # Always NULL for anonymous types (share): the sharer is never stored on the creator's notification.
    actor = models.ForeignKey(User, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    video = models.ForeignKey("platform.Video", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    conversation = models.ForeignKey(
        "platform.Conversation", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # The single event behind an ungrouped notification; NULL for groups, which many events bump.
    event = models.ForeignKey(Event, on_delete=models.SET_NULL, null=True, blank=True, related_name="notifications")
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
            models.UniqueConstraint(fields=["recipient", "group_key"], name="notification_open_group"),
        ]
        indexes = [
            models.Index(fields=["recipient", "-updated_at", "-id"], name="inbox_by_recency"),
            models.Index(fields=["recipient", "category"], name="inbox_unread", condition=Q(unread=True)),
        ]

    def __str__(self) -> str:
        return f"{self.type} for {self.recipient_id} (x{self.count})"


class StreamKind(models.TextChoices):
    NOTIFICATION = "notification", "notification"
    UNREAD_COUNT = "unread_count", "unread_count"


class InboxStream(models.Model):
    """The last stream sequence number handed out to a user.

    Bumping this row in the transaction that writes the notification locks it until commit, so a
    user's writers are serialised and their sequence numbers commit in order: a client that has seen
    id N has seen every id below N. Timestamps (``updated_at``) cannot promise that — two workers
    commit in either order — so ``Last-Event-ID`` replays from the log below, not from the clock.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, primary_key=True, related_name="+")
    last_seq = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"stream of {self.user_id} at {self.last_seq}"


class StreamEntry(models.Model):
    """One message of a user's live stream (/api/inbox/stream/), kept so a reconnect replays what it missed.

    It stores only what changed (a notification id, or that the unread count did); the stream renders
    the notification through the API's serializer, and so through the privacy policy, when it sends it.
    """

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=12, choices=StreamKind.choices)
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
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
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
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
