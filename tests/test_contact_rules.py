"""video_platform/contact_rules.py: who may tag, mention or DM whom (policies and blocks), as a pure rule."""

import pytest

from video_platform.contact_rules import ContactKind, contact_refusal


@pytest.mark.parametrize("kind", list(ContactKind))
def test_contact_is_refused_by_a_user_who_blocked_the_actor(kind):
    reason = contact_refusal(
        kind=kind, target_username="ana", policy="everyone", blocked_actor=True, actor_follows_target=True
    )
    assert "@ana" in reason and "blocked" in reason


@pytest.mark.parametrize("kind", list(ContactKind))
def test_contact_is_refused_by_a_nobody_policy(kind):
    reason = contact_refusal(
        kind=kind, target_username="ana", policy="nobody", blocked_actor=False, actor_follows_target=True
    )
    assert "@ana" in reason and "don't allow" in reason


@pytest.mark.parametrize("kind", list(ContactKind))
def test_contact_is_refused_to_non_followers_by_a_followers_policy(kind):
    reason = contact_refusal(
        kind=kind, target_username="ana", policy="followers", blocked_actor=False, actor_follows_target=False
    )
    assert "followers" in reason


@pytest.mark.parametrize(("policy", "follows"), [("followers", True), ("everyone", False), ("everyone", True)])
def test_contact_is_allowed_by_the_policy(policy, follows):
    refusal = contact_refusal(
        kind=ContactKind.DM, target_username="ana", policy=policy, blocked_actor=False, actor_follows_target=follows
    )
    assert refusal is None


def test_refusals_say_which_kind_of_contact_was_refused():
    dm = contact_refusal(
        kind=ContactKind.DM, target_username="ana", policy="nobody", blocked_actor=False, actor_follows_target=False
    )
    tag = contact_refusal(
        kind=ContactKind.TAG, target_username="ana", policy="nobody", blocked_actor=False, actor_follows_target=False
    )
    assert "direct messages" in dm and "tag or mention" in tag
