"""The privacy rule of Shareloop, in one place.

Who an action notifies, with which type, and whether the actor is shown — the table in docs/api.md:

| action                      | notified                                   | type    | actor shown |
|-----------------------------|--------------------------------------------|---------|-------------|
| share by link               | the creator                                | share   | never       |
| share tagging people        | each tagged user                           | tag     | yes         |
|                             | the creator, when not among the tagged     | share   | never       |
| share by DM to recipients   | each recipient                             | message | yes         |
|                             | the creator, when not among the recipients | share   | never       |
| DM text message             | the other participants                     | message | yes         |
| follow                      | the followed user                          | follow  | yes         |
| like                        | the creator                                | like    | yes         |
| comment                     | the creator                                | comment | yes         |
| @mention (comment, caption) | the mentioned user                         | mention | yes         |
| new video                   | every follower                             | post    | yes         |

Nobody is notified of their own action; a muted type is not delivered; a user who blocked the actor
gets nothing that names the actor (an anonymous ``share`` is still delivered: leaving it out would let
the gap between the share count and the group count reveal a blocked sharer). Each recipient gets at
most one notification per action: the first row of the table that reaches them wins.

This module is pure: no database, no Django. The fan-out, the serializers and the templates all ask it.
"""

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from video_platform.actions import ActionKind, RecordedAction
from video_platform.notification_types import NotificationType

# Repeated actions on one video merge into the recipient's open (unread) group with an exact count.
GROUPED_TYPES = frozenset({NotificationType.SHARE, NotificationType.LIKE})
# Types that never carry the actor, anywhere: no field, link, id or text.
ANONYMOUS_TYPES = frozenset({NotificationType.SHARE})


def shows_actor(notification_type: str) -> bool:
    return notification_type not in ANONYMOUS_TYPES


def is_grouped(notification_type: str) -> bool:
    return notification_type in GROUPED_TYPES


class _OfOneType:
    """What the rule says of the notification type that a delivery, or many of one type, carries."""

    type: NotificationType

    @property
    def shows_actor(self) -> bool:
        return shows_actor(self.type)

    @property
    def grouped(self) -> bool:
        return is_grouped(self.type)


@dataclass(frozen=True)
class Delivery(_OfOneType):
    recipient_id: int
    type: NotificationType


@dataclass(frozen=True)
class SameDeliveries(_OfOneType, Sequence[Delivery]):
    """One notification type for many recipients: a chunk of a post's followers, without a Delivery each."""

    type: NotificationType
    recipient_ids: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.recipient_ids)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [Delivery(recipient_id, self.type) for recipient_id in self.recipient_ids[index]]
        return Delivery(self.recipient_ids[index], self.type)


def _direct_candidates(action: RecordedAction) -> list[tuple[int, NotificationType]]:
    """(recipient, type) pairs in priority order, before self, block and mute filtering."""
    T = NotificationType
    kind = action.kind
    if kind == ActionKind.SHARE:
        if action.channel == "tag":
            return [*((uid, T.TAG) for uid in sorted(action.tagged)), (action.creator_id, T.SHARE)]
        if action.channel == "dm":
            return [*((uid, T.MESSAGE) for uid in sorted(action.recipients)), (action.creator_id, T.SHARE)]
        return [(action.creator_id, T.SHARE)]
    if kind == ActionKind.MESSAGE:
        return [(uid, T.MESSAGE) for uid in sorted(action.recipients)]
    if kind == ActionKind.FOLLOW:
        return [(action.followee_id, T.FOLLOW)]
    if kind == ActionKind.LIKE:
        return [(action.creator_id, T.LIKE)]
    if kind == ActionKind.COMMENT:
        return [(action.creator_id, T.COMMENT), *((uid, T.MENTION) for uid in sorted(action.mentioned))]
    if kind == ActionKind.POST:
        # Followers are reached by the chunked fan-out (follower_deliveries); mentions come first.
        return [(uid, T.MENTION) for uid in sorted(action.mentioned)]
    raise ValueError(f"unknown action kind {kind!r}")


@dataclass(frozen=True)
class Verdict:
    """What the rule decided for one person an action may reach: delivered, or left out and why."""

    delivery: Delivery
    left_out_because: str = ""

    @property
    def delivered(self) -> bool:
        return not self.left_out_because


def _judged(
    action: RecordedAction,
    candidates: Iterable[tuple[int | None, NotificationType]],
    *,
    blocked_actor: Collection[int],
    muted: Mapping[int, Collection[str]],
    already: Collection[int] = (),
) -> list[Verdict]:
    seen = set(already)
    verdicts = []
    for recipient_id, notification_type in candidates:
        if recipient_id is None or recipient_id == action.actor_id or recipient_id in seen:
            continue
        seen.add(recipient_id)
        reason = ""
        if notification_type in muted.get(recipient_id, ()):
            reason = f"muted '{notification_type}' notifications"
        elif shows_actor(notification_type) and recipient_id in blocked_actor:
            reason = "blocked the actor"
        verdicts.append(Verdict(Delivery(recipient_id, notification_type), reason))
    return verdicts


def _filtered(action: RecordedAction, candidates, *, blocked_actor, muted, already=()) -> list[Delivery]:
    verdicts = _judged(action, candidates, blocked_actor=blocked_actor, muted=muted, already=already)
    return [verdict.delivery for verdict in verdicts if verdict.delivered]


def candidate_ids(action: RecordedAction) -> set[int]:
    """Everyone the direct part of an action might reach: whose blocks and mutes must be looked up."""
    return {uid for uid, _ in _direct_candidates(action) if uid is not None}


def deliveries(
    action: RecordedAction, *, blocked_actor: Collection[int], muted: Mapping[int, Collection[str]]
) -> list[Delivery]:
    """The notifications an action causes, except a new post's followers (see follower_deliveries).

    ``blocked_actor``: candidates who blocked the actor; ``muted``: candidate id → muted types.
    """
    return _filtered(action, _direct_candidates(action), blocked_actor=blocked_actor, muted=muted)


def audience(
    action: RecordedAction, *, blocked_actor: Collection[int], muted: Mapping[int, Collection[str]]
) -> list[Verdict]:
    """Everyone ``deliveries`` considers, delivered or left out, with the reason: what admin shows for an event."""
    return _judged(action, _direct_candidates(action), blocked_actor=blocked_actor, muted=muted)


def share_hides_sharer_from_creator(action: RecordedAction) -> bool:
    """Whether the creator learns of this share only anonymously (a link, or a tag or DM naming others).

    Such a share's every trace — the public count and analytics too — waits for the batch window, whatever
    the creator muted or blocked: a count that moved at once would name the sharer by its timing.
    """
    anonymous = _filtered(action, _direct_candidates(action), blocked_actor=(), muted={})
    return any(d.recipient_id == action.creator_id and not d.shows_actor for d in anonymous)


def follower_deliveries(
    action: RecordedAction,
    follower_ids: Iterable[int],
    *,
    blocked_actor: Collection[int],
    muted: Mapping[int, Collection[str]],
) -> SameDeliveries:
    """A new post's ``post`` notifications for one chunk of the creator's followers.

    Followers the post mentions already got a ``mention`` and are skipped here. Only the actor, the mentioned
    and those who blocked or muted anyone can be left out, so the rule judges just them (a chunk has thousands
    of followers and a handful of those) and every other follower gets the same delivery.
    """
    follower_ids = dict.fromkeys(follower_ids)  # in order, each once
    maybe_left_out = {None, action.actor_id, *action.mentioned, *blocked_actor, *muted}
    judged = _judged(
        action,
        ((uid, NotificationType.POST) for uid in maybe_left_out if uid in follower_ids),
        blocked_actor=blocked_actor,
        muted=muted,
        already=action.mentioned,
    )
    left_out = maybe_left_out - {verdict.delivery.recipient_id for verdict in judged if verdict.delivered}
    recipients = tuple(uid for uid in follower_ids if uid not in left_out)
    return SameDeliveries(NotificationType.POST, recipients)


def excerpt_for(notification_type: str, text: str) -> str:
    """What of the action's own text (comment, message, caption) a notification may quote."""
    return text[:120] if shows_actor(notification_type) else ""


def quoted_excerpt(notification_type: str, excerpt: str, *, video_hidden: bool) -> str:
    """What a notification quotes when shown: nothing from or about a video a moderator hid (its caption, its
    comments), except a message's own words, which its chat shows anyway."""
    if video_hidden and notification_type != NotificationType.MESSAGE:
        return ""
    return excerpt


def notification_text(notification_type: str, *, count: int, actor_username: str | None, excerpt: str = "") -> str:
    """The line an inbox shows. For an anonymous type the actor is never passed in, nor used."""
    T = NotificationType
    who = f"@{actor_username}" if actor_username and shows_actor(notification_type) else "Someone"
    if notification_type == T.SHARE:
        return "Your video was shared once" if count == 1 else f"Your video was shared {count} times"
    if notification_type == T.LIKE:
        others = count - 1
        if others <= 0:
            return f"{who} liked your video"
        return f"{who} and {others} other{'s' if others > 1 else ''} liked your video"
    if notification_type == T.TAG:
        return f"{who} tagged you in a video"
    if notification_type == T.MESSAGE:
        return f"{who} sent you a message" + (f": {excerpt}" if excerpt else "")
    if notification_type == T.FOLLOW:
        return f"{who} started following you"
    if notification_type == T.COMMENT:
        return f"{who} commented: {excerpt}" if excerpt else f"{who} commented on your video"
    if notification_type == T.MENTION:
        return f"{who} mentioned you" + (f": {excerpt}" if excerpt else "")
    if notification_type == T.POST:
        return f"{who} posted a new video" + (f": {excerpt}" if excerpt else "")
    raise ValueError(f"unknown notification type {notification_type!r}")
