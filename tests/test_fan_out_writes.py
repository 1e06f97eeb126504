"""The bulk write of notifications: every column lands on the right row, whatever varies between rows."""

import pytest
from django.db import IntegrityError

from inbox import fan_out
from inbox.models import EventChunk, Notification
from video_platform import services
from video_platform.models import Conversation, Event
from video_platform.notification_types import CATEGORY_OF_TYPE

from .factories import UserFactory, VideoFactory

pytestmark = pytest.mark.django_db


def test_dm_share_writes_each_recipient_their_own_conversation_and_an_anonymous_creator_group():
    creator, sharer = UserFactory.create(), UserFactory.create()
    ana, bo = UserFactory.create(), UserFactory.create()
    video = VideoFactory.create(creator=creator)
    share = services.video_share(sharer=sharer, video=video, channel="dm", recipients=[ana, bo], message="look")
    fan_out.event_deliver(event_id=share.event.pk)

    rows = {
        n.recipient_id: (n.type, n.actor_id, n.conversation_id, n.event_id, n.excerpt, n.group_key)
        for n in Notification.objects.all()
    }
    chat = {user.pk: Conversation.objects.get(participants=user).pk for user in (ana, bo)}
    assert chat[ana.pk] != chat[bo.pk]
    assert rows == {
        ana.pk: ("message", sharer.pk, chat[ana.pk], share.event.pk, "look", None),
        bo.pk: ("message", sharer.pk, chat[bo.pk], share.event.pk, "look", None),
        creator.pk: ("share", None, None, None, "", f"share:{video.pk}"),
    }


def test_post_chunk_gives_every_follower_one_identical_post_row(settings):
    settings.POST_FAN_OUT_CHUNK_SIZE = 3
    creator = UserFactory.create()
    followers = [UserFactory.create() for _ in range(4)]
    for follower in followers:
        services.follow_create(follower=follower, followee=creator)
    video = services.video_create(creator=creator, caption="fresh")
    fan_out.event_deliver(event_id=video.event.pk)
    for index in (0, 1, 1, 0):
        fan_out.post_chunk_deliver(event_id=video.event.pk, index=index)

    rows = Notification.objects.filter(event=video.event).values_list(
        "recipient_id", "type", "actor_id", "video_id", "excerpt", "count", "unread"
    )
    assert sorted(rows) == [(f.pk, "post", creator.pk, video.pk, "fresh", 1, True) for f in followers]
    video.event.refresh_from_db()
    assert (video.event.status, video.event.notification_count) == ("done", 4)


def test_a_comment_with_a_mention_writes_each_type_its_own_columns():
    creator, author, ana = UserFactory.create(), UserFactory.create(), UserFactory.create()
    video = VideoFactory.create(creator=creator)
    comment = services.comment_create(author=author, video=video, text=f"nice, @{ana.username}")
    event = Event.objects.get(kind="comment", actor=author)
    fan_out.event_deliver(event_id=event.pk)

    rows = set(Notification.objects.values_list("recipient_id", "type", "category", "actor_id", "event_id", "excerpt"))
    assert rows == {
        (creator.pk, "comment", CATEGORY_OF_TYPE["comment"], author.pk, event.pk, comment.text),
        (ana.pk, "mention", CATEGORY_OF_TYPE["mention"], author.pk, event.pk, comment.text),
    }


def test_a_chunk_written_again_without_its_claim_fails_instead_of_writing_twice(settings):
    # A chunk's rows go in without ON CONFLICT under its claim: the unique (event, recipient) still holds them.
    settings.POST_FAN_OUT_CHUNK_SIZE = 3
    creator = UserFactory.create()
    for follower in [UserFactory.create() for _ in range(2)]:
        services.follow_create(follower=follower, followee=creator)
    video = services.video_create(creator=creator, caption="fresh")
    fan_out.event_deliver(event_id=video.event.pk)
    fan_out.post_chunk_deliver(event_id=video.event.pk, index=0)
    EventChunk.objects.filter(event=video.event).delete()  # the claim lost, its rows not

    with pytest.raises(IntegrityError):
        fan_out.post_chunk_deliver(event_id=video.event.pk, index=0)
    assert Notification.objects.filter(event=video.event).count() == 2
    video.event.refresh_from_db()
    assert (video.event.chunks_done, video.event.notification_count) == (1, 2)


@pytest.mark.parametrize(("batch_seconds", "counted_when_made"), [(0, True), (30, False)])
def test_a_share_counted_when_made_says_so_and_its_delivery_leaves_the_count_exact(
    settings, batch_seconds, counted_when_made
):
    settings.SHARE_NOTIFICATION_BATCH_SECONDS = batch_seconds
    video = VideoFactory.create()
    share = services.video_share(sharer=UserFactory.create(), video=video, channel="tag", tagged=[video.creator])
    assert share.event.action.share_counted is counted_when_made
    fan_out.event_deliver(event_id=share.event.pk)  # naming the creator, it is counted by now either way
    video.refresh_from_db()
    assert video.share_count == 1
