"""A notification as its recipient sees it: rendered here once, for the API, the pages, the stream and admin.

The renderer decides nothing of the privacy rule itself: inbox.policy says whether the actor is shown, what
the line says and what it may quote. Its input is a row of NOTIFICATION_ROW, as the inbox's query reads it
(selectors.inbox_notification_rows), or notification_row() of a model instance (admin).
"""

from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import TypedDict

from . import policy
from .models import Notification


class NotificationRow(TypedDict):
    """The columns a notification is rendered from, as ``Notification.objects.values()`` names them."""

    id: int
    type: str
    category: str
    excerpt: str
    count: int
    unread: bool
    conversation_id: int | None
    created_at: datetime
    updated_at: datetime
    actor__username: str | None
    actor__profile__display_name: str | None
    video_id: int | None
    video__caption: str | None
    video__is_hidden: bool | None


NOTIFICATION_ROW = tuple(NotificationRow.__annotations__)


@dataclass(frozen=True, slots=True)
class RenderedNotification:
    """What the recipient is shown, field for field the API's notification JSON, with real datetimes."""

    id: int
    type: str
    category: str
    text: str
    actor: dict | None  # {"username", "display_name"}; None whenever the policy hides who acted
    video: dict | None  # {"id", "caption"}; the caption is "" once a moderator has hidden the video
    conversation: int | None
    count: int
    unread: bool
    created_at: datetime
    updated_at: datetime

    @property
    def anonymous(self) -> bool:
        """Whether the recipient is never shown who did this, whoever it was."""
        return not policy.shows_actor(self.type)


def notification_render(row: NotificationRow) -> RenderedNotification:
    notification_type = row["type"]
    # The policy, not the stored row, decides: an anonymous type never shows an actor.
    username = row["actor__username"] if policy.shows_actor(notification_type) else None
    video_hidden = bool(row["video__is_hidden"])
    excerpt = policy.quoted_excerpt(notification_type, row["excerpt"], video_hidden=video_hidden)
    video_id = row["video_id"]
    return RenderedNotification(
        id=row["id"],
        type=notification_type,
        category=row["category"],
        text=policy.notification_text(notification_type, count=row["count"], actor_username=username, excerpt=excerpt),
        actor={"username": username, "display_name": row["actor__profile__display_name"]} if username else None,
        video={"id": video_id, "caption": "" if video_hidden else row["video__caption"]} if video_id else None,
        conversation=row["conversation_id"],
        count=row["count"],
        unread=row["unread"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _timestamp(moment: datetime) -> str:
    """What DRF's DateTimeField answers for a stored time under TIME_ZONE = "UTC" (ISO 8601, "Z"), without
    its settings and current-time-zone lookups: 40 of these per inbox page cost as much as the query."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def notification_json(row: NotificationRow) -> dict:
    """The notification's JSON, as the API answers it and the live stream sends it."""
    shown = notification_render(row)
    data = {field.name: getattr(shown, field.name) for field in fields(RenderedNotification)}
    data["created_at"], data["updated_at"] = _timestamp(shown.created_at), _timestamp(shown.updated_at)
    return data


def notification_row(notification: Notification) -> NotificationRow:
    """A model instance's row, equal to the one the inbox's query reads. Load its ``actor__profile`` and
    ``video`` with it (select_related, or prefetch_related_objects for a list), or each costs a query."""
    actor, video = notification.actor, notification.video
    profile = getattr(actor, "profile", None)  # a user without a profile reads as NULL columns, as in the query
    return NotificationRow(
        id=notification.pk,
        type=notification.type,
        category=notification.category,
        excerpt=notification.excerpt,
        count=notification.count,
        unread=notification.unread,
        conversation_id=notification.conversation_id,
        created_at=notification.created_at,
        updated_at=notification.updated_at,
        actor__username=actor.username if actor else None,
        actor__profile__display_name=profile.display_name if profile else None,
        video_id=notification.video_id,
        video__caption=video.caption if video else None,
        video__is_hidden=video.is_hidden if video else None,
    )
