"""inbox/policy.py, the one home of the privacy rule: every row of docs/api.md's table, from both sides."""

import pytest

from inbox.policy import (
    Delivery,
    audience,
    candidate_ids,
    deliveries,
    excerpt_for,
    follower_deliveries,
    notification_text,
    quoted_excerpt,
    shows_actor,
)
from video_platform.actions import ActionKind, RecordedAction
from video_platform.notification_types import CATEGORY_OF_TYPE, NotificationType

T = NotificationType
ACTOR, CREATOR, ALICE, BOB, CAROL = 1, 2, 3, 4, 5


def share(channel="link", *, actor=ACTOR, creator=CREATOR, tagged=(), recipients=()):
    return RecordedAction(
        kind=ActionKind.SHARE,
        actor_id=actor,
        creator_id=creator,
        channel=channel,
        tagged=frozenset(tagged),
        recipients=frozenset(recipients),
    )


def delivered(action, *, blocked_actor=(), muted=None):
    """{recipient: type} of an action's notifications."""
    result = deliveries(action, blocked_actor=set(blocked_actor), muted=muted or {})
    return {d.recipient_id: d.type for d in result}


def test_link_share_notifies_only_the_creator_with_a_share():
    assert delivered(share("link")) == {CREATOR: T.SHARE}


def test_share_notifications_never_show_the_actor():
    assert shows_actor(T.SHARE) is False
    assert Delivery(CREATOR, T.SHARE).shows_actor is False


def test_every_other_notification_type_shows_the_actor():
    assert {t for t in NotificationType if shows_actor(t)} == set(NotificationType) - {T.SHARE}


def test_tag_share_notifies_each_tagged_user_with_a_tag():
    assert delivered(share("tag", tagged=[ALICE, BOB])) == {ALICE: T.TAG, BOB: T.TAG, CREATOR: T.SHARE}


def test_tag_share_gives_the_creator_an_anonymous_share_when_not_tagged():
    assert delivered(share("tag", tagged=[ALICE]))[CREATOR] == T.SHARE


def test_tag_share_gives_a_tagged_creator_only_the_tag():
    result = deliveries(share("tag", tagged=[CREATOR, ALICE]), blocked_actor=set(), muted={})
    assert [d for d in result if d.recipient_id == CREATOR] == [Delivery(CREATOR, T.TAG)]


def test_dm_share_notifies_each_recipient_with_a_message():
    assert delivered(share("dm", recipients=[ALICE, BOB])) == {ALICE: T.MESSAGE, BOB: T.MESSAGE, CREATOR: T.SHARE}


def test_dm_share_gives_a_recipient_creator_only_the_message():
    result = deliveries(share("dm", recipients=[CREATOR]), blocked_actor=set(), muted={})
    assert result == [Delivery(CREATOR, T.MESSAGE)]


def test_dm_text_message_notifies_the_other_participants():
    action = RecordedAction(kind=ActionKind.MESSAGE, actor_id=ACTOR, recipients=frozenset({ALICE, BOB}))
    assert delivered(action) == {ALICE: T.MESSAGE, BOB: T.MESSAGE}


def test_follow_notifies_the_followed_user():
    action = RecordedAction(kind=ActionKind.FOLLOW, actor_id=ACTOR, followee_id=ALICE)
    assert delivered(action) == {ALICE: T.FOLLOW}


def test_like_notifies_the_creator_with_a_grouped_like_that_shows_the_actor():
    (like,) = deliveries(
        RecordedAction(kind=ActionKind.LIKE, actor_id=ACTOR, creator_id=CREATOR), blocked_actor=(), muted={}
    )
    assert (like.recipient_id, like.type, like.grouped, like.shows_actor) == (CREATOR, T.LIKE, True, True)


def test_shares_are_grouped_too():
    assert Delivery(CREATOR, T.SHARE).grouped is True


def test_comment_notifies_the_creator():
    action = RecordedAction(kind=ActionKind.COMMENT, actor_id=ACTOR, creator_id=CREATOR)
    assert delivered(action) == {CREATOR: T.COMMENT}


def test_mention_in_a_comment_notifies_the_mentioned_user():
    action = RecordedAction(kind=ActionKind.COMMENT, actor_id=ACTOR, creator_id=CREATOR, mentioned=frozenset({ALICE}))
    assert delivered(action) == {CREATOR: T.COMMENT, ALICE: T.MENTION}


def test_mentioned_creator_gets_only_the_comment_notification():
    action = RecordedAction(kind=ActionKind.COMMENT, actor_id=ACTOR, creator_id=CREATOR, mentioned=frozenset({CREATOR}))
    result = deliveries(action, blocked_actor=(), muted={})
    assert result == [Delivery(CREATOR, T.COMMENT)]


def test_mention_in_a_caption_notifies_the_mentioned_user():
    action = RecordedAction(kind=ActionKind.POST, actor_id=CREATOR, creator_id=CREATOR, mentioned=frozenset({ALICE}))
    assert delivered(action) == {ALICE: T.MENTION}


def test_new_post_notifies_every_follower_with_a_post():
    action = RecordedAction(kind=ActionKind.POST, actor_id=CREATOR, creator_id=CREATOR)
    result = follower_deliveries(action, [ALICE, BOB, CAROL], blocked_actor=(), muted={})
    assert list(result) == [Delivery(ALICE, T.POST), Delivery(BOB, T.POST), Delivery(CAROL, T.POST)]


def test_follower_mentioned_in_the_caption_gets_the_mention_not_a_second_post_notification():
    action = RecordedAction(kind=ActionKind.POST, actor_id=CREATOR, creator_id=CREATOR, mentioned=frozenset({ALICE}))
    assert list(follower_deliveries(action, [ALICE, BOB], blocked_actor=(), muted={})) == [Delivery(BOB, T.POST)]


def test_sharing_your_own_video_notifies_nobody_by_link():
    assert delivered(share("link", actor=CREATOR)) == {}


def test_tagging_yourself_notifies_only_the_creator():
    assert delivered(share("tag", tagged=[ACTOR])) == {CREATOR: T.SHARE}


def test_dm_sharing_to_yourself_notifies_only_the_creator():
    assert delivered(share("dm", recipients=[ACTOR])) == {CREATOR: T.SHARE}


def test_liking_your_own_video_notifies_nobody():
    assert delivered(RecordedAction(kind=ActionKind.LIKE, actor_id=CREATOR, creator_id=CREATOR)) == {}


def test_commenting_on_your_own_video_notifies_only_those_you_mention():
    action = RecordedAction(
        kind=ActionKind.COMMENT, actor_id=CREATOR, creator_id=CREATOR, mentioned=frozenset({CREATOR, ALICE})
    )
    assert delivered(action) == {ALICE: T.MENTION}


def test_a_post_never_notifies_its_creator_even_as_a_listed_follower():
    action = RecordedAction(kind=ActionKind.POST, actor_id=CREATOR, creator_id=CREATOR)
    assert list(follower_deliveries(action, [CREATOR, ALICE], blocked_actor=(), muted={})) == [Delivery(ALICE, T.POST)]


def test_creator_who_blocked_the_sharer_still_gets_the_anonymous_link_share():
    assert delivered(share("link"), blocked_actor=[CREATOR]) == {CREATOR: T.SHARE}


def test_creator_who_blocked_the_sharer_still_gets_the_anonymous_share_of_a_tag_share():
    assert delivered(share("tag", tagged=[ALICE]), blocked_actor=[CREATOR]) == {ALICE: T.TAG, CREATOR: T.SHARE}


def test_creator_who_blocked_the_sharer_still_gets_the_anonymous_share_of_a_dm_share():
    result = delivered(share("dm", recipients=[ALICE]), blocked_actor=[CREATOR])
    assert result == {ALICE: T.MESSAGE, CREATOR: T.SHARE}


def test_tagged_user_who_blocked_the_sharer_gets_no_tag():
    assert delivered(share("tag", tagged=[ALICE, BOB]), blocked_actor=[ALICE]) == {BOB: T.TAG, CREATOR: T.SHARE}


def test_tagged_creator_who_blocked_the_sharer_gets_nothing_that_names_them():
    assert delivered(share("tag", tagged=[CREATOR]), blocked_actor=[CREATOR]) == {}


def test_dm_recipient_who_blocked_the_sharer_gets_no_message():
    assert delivered(share("dm", recipients=[ALICE]), blocked_actor=[ALICE]) == {CREATOR: T.SHARE}


def test_blocker_gets_no_dm_text_message():
    action = RecordedAction(kind=ActionKind.MESSAGE, actor_id=ACTOR, recipients=frozenset({ALICE, BOB}))
    assert delivered(action, blocked_actor=[ALICE]) == {BOB: T.MESSAGE}


def test_blocker_gets_no_follow_notification():
    assert (
        delivered(RecordedAction(kind=ActionKind.FOLLOW, actor_id=ACTOR, followee_id=ALICE), blocked_actor=[ALICE])
        == {}
    )


def test_blocker_gets_no_like_notification():
    action = RecordedAction(kind=ActionKind.LIKE, actor_id=ACTOR, creator_id=CREATOR)
    assert delivered(action, blocked_actor=[CREATOR]) == {}


def test_blocker_gets_no_comment_notification():
    action = RecordedAction(kind=ActionKind.COMMENT, actor_id=ACTOR, creator_id=CREATOR)
    assert delivered(action, blocked_actor=[CREATOR]) == {}


def test_blocker_gets_no_mention_notification():
    action = RecordedAction(kind=ActionKind.COMMENT, actor_id=ACTOR, creator_id=CREATOR, mentioned=frozenset({ALICE}))
    assert delivered(action, blocked_actor=[ALICE]) == {CREATOR: T.COMMENT}


def test_follower_who_blocked_the_creator_gets_no_post_notification():
    action = RecordedAction(kind=ActionKind.POST, actor_id=CREATOR, creator_id=CREATOR)
    assert list(follower_deliveries(action, [ALICE, BOB], blocked_actor={ALICE}, muted={})) == [Delivery(BOB, T.POST)]


def test_muted_shares_are_not_delivered():
    assert delivered(share("link"), muted={CREATOR: ["share"]}) == {}


def test_muting_shares_leaves_tags_delivered():
    assert delivered(share("tag", tagged=[ALICE]), muted={CREATOR: ["share"], ALICE: ["share"]}) == {ALICE: T.TAG}


def test_muted_tags_are_not_delivered():
    assert delivered(share("tag", tagged=[ALICE]), muted={ALICE: ["tag"]}) == {CREATOR: T.SHARE}


def test_a_tagged_creator_who_muted_tags_gets_no_share_instead():
    assert delivered(share("tag", tagged=[CREATOR]), muted={CREATOR: ["tag"]}) == {}


def test_muted_messages_are_not_delivered():
    assert delivered(share("dm", recipients=[ALICE]), muted={ALICE: ["message"]}) == {CREATOR: T.SHARE}


@pytest.mark.parametrize(
    ("action", "muted_type"),
    [
        (RecordedAction(kind=ActionKind.FOLLOW, actor_id=ACTOR, followee_id=CREATOR), "follow"),
        (RecordedAction(kind=ActionKind.LIKE, actor_id=ACTOR, creator_id=CREATOR), "like"),
        (RecordedAction(kind=ActionKind.COMMENT, actor_id=ACTOR, creator_id=CREATOR), "comment"),
        (
            RecordedAction(kind=ActionKind.POST, actor_id=ACTOR, creator_id=ACTOR, mentioned=frozenset({CREATOR})),
            "mention",
        ),
    ],
)
def test_a_muted_type_is_not_delivered(action, muted_type):
    assert delivered(action, muted={CREATOR: [muted_type]}) == {}


def test_muted_posts_are_not_delivered_to_that_follower():
    action = RecordedAction(kind=ActionKind.POST, actor_id=CREATOR, creator_id=CREATOR)
    result = follower_deliveries(action, [ALICE, BOB], blocked_actor=(), muted={ALICE: ["post"]})
    assert list(result) == [Delivery(BOB, T.POST)]


def test_a_chunk_of_followers_is_judged_one_by_one_by_the_same_rule():
    # The chunk path judges only the followers who could be left out; everyone else gets the same post.
    action = RecordedAction(kind=ActionKind.POST, actor_id=CREATOR, creator_id=CREATOR, mentioned=frozenset({ALICE}))
    followers = [CREATOR, ALICE, BOB, CAROL, 6, 7, 8, BOB]
    blocked, muted = {CAROL, 99}, {6: ["like"], 7: ["post"], 98: ["post"]}
    result = follower_deliveries(action, followers, blocked_actor=blocked, muted=muted)
    assert list(result) == [Delivery(BOB, T.POST), Delivery(6, T.POST), Delivery(8, T.POST)]
    assert len(result) == 3 and result[1] == Delivery(6, T.POST) and result.shows_actor and not result.grouped


def test_muting_one_type_leaves_the_others_delivered():
    action = RecordedAction(kind=ActionKind.COMMENT, actor_id=ACTOR, creator_id=CREATOR, mentioned=frozenset({ALICE}))
    assert delivered(action, muted={CREATOR: ["like", "share"]}) == {CREATOR: T.COMMENT, ALICE: T.MENTION}


@pytest.mark.parametrize(
    "action",
    [
        share("tag", tagged=[CREATOR, ALICE, BOB]),
        share("dm", recipients=[CREATOR, ALICE, BOB]),
        RecordedAction(
            kind=ActionKind.COMMENT, actor_id=ACTOR, creator_id=CREATOR, mentioned=frozenset({CREATOR, ALICE})
        ),
        RecordedAction(kind=ActionKind.MESSAGE, actor_id=ACTOR, recipients=frozenset({ALICE, BOB, ACTOR})),
    ],
)
def test_each_recipient_gets_at_most_one_notification_per_action(action):
    recipients = [d.recipient_id for d in deliveries(action, blocked_actor=(), muted={})]
    assert len(recipients) == len(set(recipients))


def test_blocks_and_mutes_are_looked_up_for_every_possible_recipient():
    assert candidate_ids(share("tag", tagged=[ALICE, BOB])) == {ALICE, BOB, CREATOR}


@pytest.mark.parametrize("count", [1, 2, 12])
def test_share_text_never_names_the_actor_even_when_given_one(count):
    text = notification_text(T.SHARE, count=count, actor_username="sneaky_sharer", excerpt="secret hello")
    assert "sneaky_sharer" not in text and "secret" not in text and "Someone" not in text


def test_share_text_says_how_often_the_video_was_shared():
    assert notification_text(T.SHARE, count=1, actor_username=None) == "Your video was shared once"
    assert notification_text(T.SHARE, count=12, actor_username=None) == "Your video was shared 12 times"


def test_a_share_never_quotes_the_sharers_message():
    assert excerpt_for(T.SHARE, "hi from sam") == ""


def test_a_message_quotes_its_text():
    assert excerpt_for(T.MESSAGE, "hi from sam") == "hi from sam"


def test_like_group_text_names_the_latest_liker_and_counts_the_others():
    assert notification_text(T.LIKE, count=1, actor_username="ana") == "@ana liked your video"
    assert notification_text(T.LIKE, count=2, actor_username="ana") == "@ana and 1 other liked your video"
    assert notification_text(T.LIKE, count=4, actor_username="ana") == "@ana and 3 others liked your video"


@pytest.mark.parametrize("notification_type", [T.TAG, T.MESSAGE, T.FOLLOW, T.COMMENT, T.MENTION, T.POST])
def test_identified_texts_name_the_actor(notification_type):
    assert "@ana" in notification_text(notification_type, count=1, actor_username="ana", excerpt="hey")


def test_categories_follow_the_inbox_tabs():
    assert CATEGORY_OF_TYPE == {
        T.SHARE: "shares",
        T.TAG: "mentions",
        T.MENTION: "mentions",
        T.MESSAGE: "messages",
        T.FOLLOW: "followers",
        T.LIKE: "likes",
        T.COMMENT: "comments",
        T.POST: "posts",
    }


def test_audience_says_why_each_person_was_left_out():
    action = RecordedAction(
        kind=ActionKind.COMMENT, actor_id=ACTOR, creator_id=CREATOR, mentioned=frozenset({ALICE, BOB})
    )
    verdicts = audience(action, blocked_actor=[ALICE], muted={BOB: ["mention"]})
    assert [(v.delivery.recipient_id, v.delivery.type, v.left_out_because) for v in verdicts] == [
        (CREATOR, T.COMMENT, ""),
        (ALICE, T.MENTION, "blocked the actor"),
        (BOB, T.MENTION, "muted 'mention' notifications"),
    ]
    assert [v.delivery for v in verdicts if v.delivered] == deliveries(
        action, blocked_actor=[ALICE], muted={BOB: ["mention"]}
    )


def test_a_hidden_videos_notifications_quote_nothing_of_it_but_a_message_keeps_its_words():
    assert quoted_excerpt("post", "my caption", video_hidden=True) == ""
    assert quoted_excerpt("comment", "nice", video_hidden=True) == ""
    assert quoted_excerpt("message", "look at this", video_hidden=True) == "look at this"
    assert quoted_excerpt("post", "my caption", video_hidden=False) == "my caption"
