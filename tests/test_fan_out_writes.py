"""The bulk write of notifications: every column lands on the right row, whatever varies between rows."""

import pytest

from inbox import fan_out
from inbox.models import Notification
from video_platform import services
from video_platform.models import Conversation

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
