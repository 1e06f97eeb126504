"""What the social core tells the rest of the platform: each user action as a typed, versioned record.

A service builds a ``RecordedAction`` and writes it to the outbox (``video_platform.outbox``) in the action's
own transaction; consumers (the inbox fan-out) read it back with ``RecordedAction.from_event``. This is the
whole contract between the apps: the JSON form carries ``version`` so a stored action keeps its meaning when
the shape changes. Pure: no database access here.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

# Bump when the JSON shape changes, and teach ``from_payload`` to read the older versions still stored.
PAYLOAD_VERSION = 1


class ActionKind(StrEnum):
    SHARE = "share"
    MESSAGE = "message"
    FOLLOW = "follow"
    LIKE = "like"
    COMMENT = "comment"
    POST = "post"


@dataclass(frozen=True, kw_only=True)
class RecordedAction:
    """One action, with every fact a consumer needs; ids only, so it crosses processes as JSON."""

    kind: ActionKind
    actor_id: int
    video_id: int | None = None
    creator_id: int | None = None  # owner of the video the action is about
    channel: str | None = None  # shares: link, tag or dm
    tagged: frozenset[int] = field(default_factory=frozenset)
    recipients: frozenset[int] = field(default_factory=frozenset)  # DM share recipients, message participants
    mentioned: frozenset[int] = field(default_factory=frozenset)
    followee_id: int | None = None
    conversations: Mapping[int, int] = field(default_factory=dict)  # recipient id -> the chat it landed in
    text: str = ""  # the action's own words: caption, comment, message
    share_id: int | None = None
    share_counted: bool = False  # the share joined its video's public count when it was made
    comment_id: int | None = None
    message_id: int | None = None
    follow_id: int | None = None
    like_id: int | None = None

    def to_payload(self) -> dict:
        """The JSON stored in the outbox row (kind, actor and video are columns of the row itself)."""
        return {
            "version": PAYLOAD_VERSION,
            "creator": self.creator_id,
            "channel": self.channel,
            "tagged": sorted(self.tagged),
            "recipients": sorted(self.recipients),
            "mentioned": sorted(self.mentioned),
            "followee": self.followee_id,
            "conversations": {str(user_id): chat_id for user_id, chat_id in sorted(self.conversations.items())},
            "text": self.text,
            "share_id": self.share_id,
            "share_counted": self.share_counted,
            "comment_id": self.comment_id,
            "message_id": self.message_id,
            "follow_id": self.follow_id,
            "like_id": self.like_id,
        }

    @classmethod
    def from_payload(cls, *, kind: str, actor_id: int, video_id: int | None, payload: Mapping) -> "RecordedAction":
        version = payload.get("version")
        if version != PAYLOAD_VERSION:
            raise ValueError(f"unknown action payload version {version!r}")
        return cls(
            kind=ActionKind(kind),
            actor_id=actor_id,
            video_id=video_id,
            creator_id=payload.get("creator"),
            channel=payload.get("channel"),
            tagged=frozenset(payload.get("tagged", ())),
            recipients=frozenset(payload.get("recipients", ())),
            mentioned=frozenset(payload.get("mentioned", ())),
            followee_id=payload.get("followee"),
            conversations={int(user_id): chat_id for user_id, chat_id in payload.get("conversations", {}).items()},
            text=payload.get("text", ""),
            share_id=payload.get("share_id"),
            share_counted=payload.get("share_counted", False),
            comment_id=payload.get("comment_id"),
            message_id=payload.get("message_id"),
            follow_id=payload.get("follow_id"),
            like_id=payload.get("like_id"),
        )

    @classmethod
    def from_event(cls, event) -> "RecordedAction":
        """The action an outbox row (``video_platform.models.Event``) recorded."""
        return cls.from_payload(
            kind=event.kind, actor_id=event.actor_id, video_id=event.video_id, payload=event.payload
        )
