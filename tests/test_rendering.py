"""inbox.rendering as a pure function of a row: what the policy lets a recipient see, and nothing else."""

from datetime import UTC, datetime

import pytest

from inbox.rendering import NOTIFICATION_ROW, notification_render
from video_platform.notification_types import NotificationType as T

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def row(notification_type: str, **columns) -> dict:
    """A row of NOTIFICATION_ROW as the inbox's query reads it: by ana, about a visible video."""
    return {
        "id": 7,
        "type": notification_type,
        "category": "any",
        "excerpt": "nice",
        "count": 1,
        "unread": True,
        "conversation_id": None,
        "created_at": WHEN,
        "updated_at": WHEN,
        "actor__username": "ana",
        "actor__profile__display_name": "Ana",
        "video_id": 3,
        "video__caption": "Tide pools",
        "video__is_hidden": False,
    } | columns


def test_the_row_helper_has_the_columns_the_inbox_reads():
    assert tuple(row(T.LIKE)) == NOTIFICATION_ROW


def test_a_share_shows_no_actor_even_from_a_row_that_names_one():
    shown = notification_render(row(T.SHARE, count=2))
    assert (shown.actor, shown.text, shown.anonymous) == (None, "Your video was shared 2 times", True)
    assert "ana" not in repr(shown).lower()


@pytest.mark.parametrize("notification_type", [t for t in T if t != T.SHARE])
def test_every_other_type_shows_the_actor_in_its_field_and_its_text(notification_type):
    shown = notification_render(row(notification_type))
    assert shown.actor == {"username": "ana", "display_name": "Ana"}
    assert shown.text.startswith("@ana ") and not shown.anonymous


def test_a_notification_without_an_actor_or_video_renders_them_as_null():
    shown = notification_render(row(T.FOLLOW, actor__username=None, actor__profile__display_name=None, video_id=None))
    assert (shown.actor, shown.video, shown.text) == (None, None, "Someone started following you")


def test_a_hidden_videos_caption_and_quotes_are_left_out_but_a_messages_own_words_stay():
    comment = notification_render(row(T.COMMENT, video__is_hidden=True))
    assert (comment.video, comment.text) == ({"id": 3, "caption": ""}, "@ana commented on your video")
    message = notification_render(row(T.MESSAGE, video__is_hidden=True))
    assert message.text == "@ana sent you a message: nice"


def test_times_stay_datetimes():
    shown = notification_render(row(T.LIKE))
    assert (shown.created_at, shown.updated_at) == (WHEN, WHEN)
