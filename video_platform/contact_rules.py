"""Who may tag, mention or send direct messages to whom: each user's DM and tag policy, and blocks.

The rule itself (``contact_refusal``) is pure, like the inbox's notification rule; ``contact_refusals`` gathers
the facts it needs for many targets in three queries. Refusals are answered 403 with the reason as ``detail``.
"""

from collections.abc import Iterable
from enum import StrEnum

from django.core.exceptions import PermissionDenied

from .models import Block, ContactPolicy, Follow, Profile


class ContactKind(StrEnum):
    DM = "dm"
    TAG = "tag"  # tagging in a share, and @mentioning in a caption or comment


class ActionRefused(PermissionDenied):
    """A block or a DM/tag policy forbids the action: answered 403 with the reason as ``detail``."""


def contact_refusal(
    *, kind: ContactKind, target_username: str, policy: str, blocked_actor: bool, actor_follows_target: bool
) -> str | None:
    """Why the actor may not DM (``dm``) or tag/mention (``tag``) the target, or None when allowed."""
    verb = "send direct messages to" if kind == ContactKind.DM else "tag or mention"
    if blocked_actor:
        return f"You can't {verb} @{target_username}: they have blocked you."
    if policy == ContactPolicy.NOBODY:
        return f"You can't {verb} @{target_username}: they don't allow it."
    if policy == ContactPolicy.FOLLOWERS and not actor_follows_target:
        return f"You can't {verb} @{target_username}: they only allow it from their followers."
    return None


def contact_refusals(*, actor, targets: Iterable, kind: ContactKind) -> dict[int, str]:
    """Why the actor may not DM or tag each target, by user id; allowed targets (and the actor) are absent."""
    targets = [t for t in targets if t.pk != actor.pk]
    if not targets:
        return {}
    ids = [t.pk for t in targets]
    blocked_by = set(Block.objects.filter(blocked=actor, blocker_id__in=ids).values_list("blocker_id", flat=True))
    follows = set(Follow.objects.filter(follower=actor, followee_id__in=ids).values_list("followee_id", flat=True))
    policy_field = "dm_policy" if kind == ContactKind.DM else "tag_policy"
    policies = dict(Profile.objects.filter(user_id__in=ids).values_list("user_id", policy_field))
    refusals = {}
    for target in targets:
        reason = contact_refusal(
            kind=kind,
            target_username=target.get_username(),
            policy=policies.get(target.pk, ContactPolicy.EVERYONE),
            blocked_actor=target.pk in blocked_by,
            actor_follows_target=target.pk in follows,
        )
        if reason:
            refusals[target.pk] = reason
    return refusals


def contact_check(*, actor, targets: Iterable, kind: ContactKind) -> None:
    """Refuse the action (``ActionRefused``) when any target's policy or block forbids it."""
    refusals = contact_refusals(actor=actor, targets=targets, kind=kind)
    if refusals:
        raise ActionRefused(next(iter(refusals.values())))
