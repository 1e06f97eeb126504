from django.conf import settings
from django.db import models
from django.db.models import F, Q

from .actions import ActionKind, RecordedAction

User = settings.AUTH_USER_MODEL

CAPTION_MAX_LENGTH = 300
COMMENT_MAX_LENGTH = 500
MESSAGE_MAX_LENGTH = 1000
# People one share may tag or DM: each is a notification (and a conversation), yet the share is one write.
SHARE_MAX_PEOPLE = 20
CLIP_MAX_BYTES = 5 * 1024 * 1024


class ContactPolicy(models.TextChoices):
    EVERYONE = "everyone", "Everyone"
    FOLLOWERS = "followers", "Followers"
    NOBODY = "nobody", "Nobody"


class Profile(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    display_name = models.CharField(max_length=50, blank=True)
    bio = models.CharField(max_length=200, blank=True)
    is_pro = models.BooleanField(default=False)
    dm_policy = models.CharField(max_length=10, choices=ContactPolicy.choices, default=ContactPolicy.EVERYONE)
    tag_policy = models.CharField(max_length=10, choices=ContactPolicy.choices, default=ContactPolicy.EVERYONE)
    # Notification types this user does not want delivered (values of notification_types.NotificationType).
    muted_types = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return self.display_name or self.user.get_username()


class Follow(models.Model):
    follower = models.ForeignKey(User, on_delete=models.CASCADE, related_name="following_set")
    followee = models.ForeignKey(User, on_delete=models.CASCADE, related_name="follower_set")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["followee", "follower"], name="follow_once"),
            models.CheckConstraint(condition=~Q(follower=F("followee")), name="follow_not_self"),
        ]
        indexes = [models.Index(fields=["follower", "followee"], name="follow_by_follower")]

    def __str__(self) -> str:
        return f"{self.follower_id} → {self.followee_id}"


class FollowedPair(models.Model):
    """A pair that has followed at least once: a follow notifies only the first time, as a like does."""

    follower = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    followee = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["follower", "followee"], name="followed_pair_once")]

    def __str__(self) -> str:
        return f"{self.follower_id} followed {self.followee_id}"


class Block(models.Model):
    blocker = models.ForeignKey(User, on_delete=models.CASCADE, related_name="blocks_made")
    blocked = models.ForeignKey(User, on_delete=models.CASCADE, related_name="blocks_received")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="block_once"),
            models.CheckConstraint(condition=~Q(blocker=F("blocked")), name="block_not_self"),
        ]
        indexes = [models.Index(fields=["blocked", "blocker"], name="block_by_blocked")]

    def __str__(self) -> str:
        return f"{self.blocker_id} blocks {self.blocked_id}"


class Video(models.Model):
    creator = models.ForeignKey(User, on_delete=models.CASCADE, related_name="videos")
    caption = models.CharField(max_length=CAPTION_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    is_hidden = models.BooleanField(default=False)
    # An optional small upload (MP4 or WebM, checked by content); without one the page shows the poster.
    clip = models.FileField(upload_to="clips/", blank=True)
    # Denormalised counters, only ever changed with F() expressions in the services.
    view_count = models.PositiveBigIntegerField(default=0)
    like_count = models.PositiveBigIntegerField(default=0)
    comment_count = models.PositiveBigIntegerField(default=0)
    share_count = models.PositiveBigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["creator", "-created_at"], name="video_by_creator")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.caption[:40]}"


class VideoView(models.Model):
    video = models.ForeignKey(Video, on_delete=models.CASCADE, related_name="views")
    viewer = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"view of {self.video_id}"


class ProfileView(models.Model):
    profile_user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="profile_views")
    viewer = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"view of {self.profile_user_id}"


class Like(models.Model):
    video = models.ForeignKey(Video, on_delete=models.CASCADE, related_name="likes")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="likes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["video", "user"], name="like_once")]

    def __str__(self) -> str:
        return f"{self.user_id} likes {self.video_id}"


class LikedPair(models.Model):
    """A user who has liked a video at least once: liking again after an unlike notifies nobody."""

    video = models.ForeignKey(Video, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["video", "user"], name="liked_pair_once")]

    def __str__(self) -> str:
        return f"{self.user_id} liked {self.video_id}"


class Comment(models.Model):
    video = models.ForeignKey(Video, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(User, on_delete=models.CASCADE, related_name="comments")
    text = models.CharField(max_length=COMMENT_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)
    is_hidden = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["video", "created_at"], name="comment_by_video")]

    def __str__(self) -> str:
        return self.text[:40]


class ShareChannel(models.TextChoices):
    LINK = "link", "Copy link / another app"
    TAG = "tag", "Repost tagging people"
    DM = "dm", "Send to friends"


class Share(models.Model):
    """Who shared what. Only the sharer (through their own API responses) and staff ever see ``sharer``."""

    video = models.ForeignKey(Video, on_delete=models.CASCADE, related_name="shares")
    sharer = models.ForeignKey(User, on_delete=models.CASCADE, related_name="shares_made")
    channel = models.CharField(max_length=4, choices=ShareChannel.choices)
    message = models.CharField(max_length=MESSAGE_MAX_LENGTH, blank=True)
    tagged = models.ManyToManyField(User, blank=True, related_name="+")
    recipients = models.ManyToManyField(User, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # When the share joined the public count and analytics. NULL while share batching holds it: a share the
    # creator is not named in waits for its window's release, so no count moves when the sharer acts.
    released_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["created_at"], name="share_unreleased", condition=Q(released_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"share #{self.pk} of video {self.video_id} ({self.channel})"


class Conversation(models.Model):
    participants = models.ManyToManyField(User, related_name="conversations")
    # Sorted participant ids, so one set of people has one conversation.
    key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"conversation #{self.pk}"


class Message(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    sender = models.ForeignKey(User, on_delete=models.CASCADE, related_name="messages_sent")
    text = models.CharField(max_length=MESSAGE_MAX_LENGTH, blank=True)
    video = models.ForeignKey(Video, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    share = models.ForeignKey(Share, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["conversation", "created_at"], name="message_by_conversation")]

    def __str__(self) -> str:
        return self.text[:40] or f"video {self.video_id}"


class EventStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    HELD = "held", "Held"  # fanned out, but anonymous notifications wait for their batch window
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class Event(models.Model):
    """The outbox: one user action as a typed record (``video_platform.actions.RecordedAction``), written in the
    action's transaction. Its consumer, the inbox fan-out, fills in the delivery fields below.

    The table keeps its first name, ``inbox_event``: the inbox owned it before the social core did.
    """

    kind = models.CharField(max_length=10, choices=[(k.value, k.value) for k in ActionKind])
    actor = models.ForeignKey(User, on_delete=models.CASCADE, related_name="events")
    video = models.ForeignKey("platform.Video", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    # RecordedAction.to_payload(): the facts consumers need (tagged, recipients, mentioned, the action's rows).
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=7, choices=EventStatus.choices, default=EventStatus.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)
    # While held: when the batch window holding its anonymous notifications is released.
    release_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=1)
    # How many inbox rows this event created or bumped.
    notification_count = models.PositiveIntegerField(default=0)
    # A new post's follower fan-out: upper follower-id bound of each chunk, frozen when planned.
    chunk_bounds = models.JSONField(null=True, blank=True)
    chunks_done = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        db_table = "inbox_event"
        indexes = [
            models.Index(fields=["dispatched_at"], name="event_pending", condition=Q(status=EventStatus.PENDING)),
        ]

    def __str__(self) -> str:
        return f"event #{self.pk} {self.kind} ({self.status})"

    @property
    def action(self) -> RecordedAction:
        return RecordedAction.from_event(self)
