"""Delivery without a worker: the services write events, and the fan-out services are called directly."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from inbox import dispatch, fan_out, reading
from inbox.models import EventChunk, Notification
from inbox.tasks import fan_out_event
from video_platform import services
from video_platform.models import Event, Follow, Share, Video

from .factories import UserFactory, VideoFactory

pytestmark = pytest.mark.django_db


def deliver_event(event: Event) -> Event:
    """One run of event_deliver, the service under test, and the event as it left it. Unlike the ``deliver``
    fixture (the worker's whole job), it leaves a post's chunks to the tests of chunks."""
    fan_out.event_deliver(event_id=event.pk)
    event.refresh_from_db()
    return event


def notifications_of(user, **filters) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, **filters).order_by("id"))


def link_share(video, sharer=None) -> Share:
    share = services.video_share(sharer=sharer or UserFactory.create(), video=video, channel="link")
    deliver_event(share.event)
    return share


def test_an_action_writes_a_pending_event_and_no_notification_before_delivery(video):
    share = services.video_share(sharer=UserFactory.create(), video=video, channel="link")
    assert Event.objects.get(pk=share.event.pk).status == "pending"
    assert Notification.objects.count() == 0


def test_a_delivered_event_is_done_and_counts_its_notifications(video):
    tagged = UserFactory.create_batch(2)
    share = services.video_share(sharer=UserFactory.create(), video=video, channel="tag", tagged=tagged)
    event = deliver_event(share.event)
    assert (event.status, event.notification_count) == ("done", 3)
    assert event.done_at is not None


def test_delivering_the_same_event_twice_writes_its_notifications_once(video):
    tagged = UserFactory.create()
    share = services.video_share(sharer=UserFactory.create(), video=video, channel="tag", tagged=[tagged])
    deliver_event(share.event)
    deliver_event(share.event)
    assert [(n.type, n.count) for n in notifications_of(tagged)] == [("tag", 1)]
    assert [(n.type, n.count) for n in notifications_of(video.creator)] == [("share", 1)]


def test_delivering_the_same_share_twice_bumps_the_group_once(video):
    share = services.video_share(sharer=UserFactory.create(), video=video, channel="link")
    deliver_event(share.event)
    deliver_event(share.event)
    assert [n.count for n in notifications_of(video.creator)] == [1]
    assert Event.objects.get(pk=share.event.pk).notification_count == 1


def test_link_shares_by_different_users_merge_into_one_group_with_an_exact_count(video):
    for _ in range(3):
        link_share(video)
    (group,) = notifications_of(video.creator)
    assert (group.type, group.count, group.unread) == ("share", 3, True)
    assert Video.objects.get(pk=video.pk).share_count == 3


def test_the_share_group_row_never_stores_a_sharer(video):
    link_share(video)
    (group,) = notifications_of(video.creator)
    assert (group.actor_id, group.event_id, group.excerpt) == (None, None, "")


def test_shares_of_different_videos_open_different_groups(creator):
    first, second = VideoFactory.create_batch(2, creator=creator)
    link_share(first)
    link_share(second)
    assert sorted(n.video_id for n in notifications_of(creator)) == [first.pk, second.pk]


def test_reading_a_share_group_closes_it_and_the_next_share_opens_a_new_one(video):
    link_share(video)
    link_share(video)
    (group,) = notifications_of(video.creator)
    reading.notification_mark_read(notification=group)
    link_share(video)
    assert [(n.count, n.unread) for n in notifications_of(video.creator)] == [(2, False), (1, True)]


def test_read_all_closes_every_open_group(video):
    link_share(video)
    reading.notifications_mark_all_read(user=video.creator)
    link_share(video)
    assert [(n.count, n.unread) for n in notifications_of(video.creator)] == [(1, False), (1, True)]


def test_read_all_of_one_category_leaves_the_others_unread(video):
    link_share(video)
    deliver_event(services.comment_create(author=UserFactory.create(), video=video, text="nice").event)
    reading.notifications_mark_all_read(user=video.creator, category="shares")
    assert [(n.type, n.unread) for n in notifications_of(video.creator)] == [("share", False), ("comment", True)]


def test_likes_by_different_users_merge_into_one_group_naming_the_latest_liker(video):
    first, latest = UserFactory.create_batch(2)
    deliver_event(services.like_create(user=first, video=video).event)
    deliver_event(services.like_create(user=latest, video=video).event)
    (group,) = notifications_of(video.creator)
    assert (group.type, group.count, group.actor_id) == ("like", 2, latest.pk)


def test_liking_twice_counts_once_and_writes_no_second_event(video):
    liker = UserFactory.create()
    services.like_create(user=liker, video=video)
    again = services.like_create(user=liker, video=video)
    assert again.event is None
    assert Video.objects.get(pk=video.pk).like_count == 1


def test_liking_again_after_an_unlike_counts_once_in_the_open_group(video):
    ana, ben = UserFactory.create_batch(2)
    deliver_event(services.like_create(user=ana, video=video).event)
    deliver_event(services.like_create(user=ben, video=video).event)
    services.like_delete(user=ana, video=video)
    again = services.like_create(user=ana, video=video)
    (group,) = notifications_of(video.creator)
    video.refresh_from_db()
    assert (again.event, group.count, video.like_count) == (None, 2, 2)


def test_liking_again_after_the_group_was_read_notifies_nobody(video):
    ana = UserFactory.create()
    deliver_event(services.like_create(user=ana, video=video).event)
    reading.notifications_mark_all_read(user=video.creator)
    services.like_delete(user=ana, video=video)
    assert services.like_create(user=ana, video=video).event is None
    assert [(n.count, n.unread) for n in notifications_of(video.creator)] == [(1, False)]


def test_dm_share_puts_the_video_in_each_recipients_one_to_one_chat(video):
    sharer, ana, ben = UserFactory.create_batch(3)
    share = services.video_share(sharer=sharer, video=video, channel="dm", recipients=[ana, ben], message="look")
    deliver_event(share.event)
    for recipient in (ana, ben):
        (notification,) = notifications_of(recipient)
        assert (notification.type, notification.actor_id, notification.excerpt) == ("message", sharer.pk, "look")
        assert set(notification.conversation.participants.all()) == {sharer, recipient}
        assert notification.conversation.messages.get().video == video


@pytest.fixture
def small_chunks(settings):
    settings.POST_FAN_OUT_CHUNK_SIZE = 3
    return 3


@pytest.fixture
def followers(creator):
    users = UserFactory.create_batch(10)
    Follow.objects.bulk_create(Follow(follower=user, followee=creator) for user in users)
    return users


def test_a_post_to_many_followers_is_planned_in_chunks_and_stays_pending(creator, followers, small_chunks):
    event = deliver_event(services.video_create(creator=creator, caption="new!").event)
    assert len(event.chunk_bounds) == 4
    assert event.status == "pending"
    assert Notification.objects.filter(type="post").count() == 0


def test_the_chunks_of_a_post_reach_every_follower_exactly_once(creator, followers, small_chunks):
    event = deliver_event(services.video_create(creator=creator, caption="new!").event)
    for index in range(len(event.chunk_bounds)):
        fan_out.post_chunk_deliver(event_id=event.pk, index=index)
    for follower in followers:
        assert [n.type for n in notifications_of(follower)] == ["post"]
    event.refresh_from_db()
    assert (event.status, event.notification_count, event.chunks_done) == ("done", 10, 4)


def test_a_post_event_is_done_only_after_its_last_chunk(creator, followers, small_chunks):
    event = deliver_event(services.video_create(creator=creator, caption="new!").event)
    statuses = []
    for index in reversed(range(len(event.chunk_bounds))):
        fan_out.post_chunk_deliver(event_id=event.pk, index=index)
        statuses.append(Event.objects.get(pk=event.pk).status)
    assert statuses == ["pending", "pending", "pending", "done"]


def test_delivering_the_same_chunk_twice_writes_it_once(creator, followers, small_chunks):
    event = deliver_event(services.video_create(creator=creator, caption="new!").event)
    fan_out.post_chunk_deliver(event_id=event.pk, index=0)
    fan_out.post_chunk_deliver(event_id=event.pk, index=0)
    assert Notification.objects.filter(type="post").count() == 3
    assert EventChunk.objects.filter(event=event).count() == 1
    event.refresh_from_db()
    assert (event.chunks_done, event.notification_count) == (1, 3)


def test_redelivering_a_planned_post_does_not_plan_or_notify_again(creator, followers, small_chunks):
    mentioned = followers[0]
    event = deliver_event(services.video_create(creator=creator, caption=f"hi @{mentioned.username}").event)
    bounds = event.chunk_bounds
    event = deliver_event(event)
    assert event.chunk_bounds == bounds
    assert [n.type for n in notifications_of(mentioned)] == ["mention"]


def test_a_follower_mentioned_in_the_caption_gets_one_mention_and_no_post(creator, followers, small_chunks):
    mentioned = followers[4]
    event = deliver_event(services.video_create(creator=creator, caption=f"with @{mentioned.username}").event)
    for index in range(len(event.chunk_bounds)):
        fan_out.post_chunk_deliver(event_id=event.pk, index=index)
    assert [n.type for n in notifications_of(mentioned)] == ["mention"]
    assert Event.objects.get(pk=event.pk).notification_count == 10


def test_a_post_with_no_followers_is_done_at_once(creator):
    event = deliver_event(services.video_create(creator=creator, caption="alone").event)
    assert (event.status, event.chunk_bounds) == ("done", [])


def test_planning_a_post_sends_its_chunks_on_commit(
    creator, followers, small_chunks, django_capture_on_commit_callbacks
):
    event = services.video_create(creator=creator, caption="new!").event
    with django_capture_on_commit_callbacks() as callbacks:
        deliver_event(event)
    assert len(callbacks) == 1


def test_an_action_schedules_its_fan_out_on_commit(video, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        services.video_share(sharer=UserFactory.create(), video=video, channel="link")
    assert len(callbacks) == 1


def test_an_action_whose_transaction_rolls_back_leaves_no_event_and_sends_nothing(
    video, django_capture_on_commit_callbacks
):
    sharer = UserFactory.create()
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        services.video_share(sharer=sharer, video=video, channel="tag", tagged=[UserFactory.create()])
        raise RuntimeError("the request failed after the share")
    assert callbacks == []
    assert (Event.objects.count(), Share.objects.count(), Notification.objects.count()) == (0, 0, 0)
    assert Video.objects.get(pk=video.pk).share_count == 0


def test_a_comment_whose_transaction_rolls_back_leaves_no_trace(video, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        services.comment_create(author=UserFactory.create(), video=video, text="first!")
        raise RuntimeError("boom")
    assert callbacks == []
    assert Event.objects.count() == 0
    assert Video.objects.get(pk=video.pk).comment_count == 0


@pytest.fixture
def sent_events(monkeypatch):
    """The event ids the sweeper hands to the broker (this unit test checks its choice, not the broker)."""
    sent = []
    monkeypatch.setattr(fan_out_event, "apply_async", lambda args, **options: sent.append(*args))
    return sent


def _age(event: Event, seconds: int):
    """Pretend the event was last dispatched ``seconds`` ago; returns that moment."""
    dispatched_at = timezone.now() - timedelta(seconds=seconds)
    Event.objects.filter(pk=event.pk).update(dispatched_at=dispatched_at)
    return dispatched_at


def test_the_sweeper_resends_events_pending_longer_than_the_timeout(video, sent_events, settings):
    settings.EVENT_REDISPATCH_AFTER_SECONDS = 60
    stale = services.video_share(sharer=UserFactory.create(), video=video, channel="link").event
    fresh = services.video_share(sharer=UserFactory.create(), video=video, channel="link").event
    aged = _age(stale, 120)
    assert dispatch.events_redispatch_pending() == 1
    assert sent_events == [stale.pk]
    stale.refresh_from_db()
    assert stale.attempts == 2 and stale.dispatched_at > aged  # dispatched again, so not re-sent at once
    assert fresh.pk not in sent_events


def test_the_sweeper_leaves_delivered_events_alone(video, sent_events):
    event = link_share(video).event
    _age(event, 3600)
    assert dispatch.events_redispatch_pending() == 0
    assert sent_events == []


def test_a_resent_event_is_applied_once_when_the_original_arrives_too(video, sent_events):
    event = services.video_share(sharer=UserFactory.create(), video=video, channel="link").event
    _age(event, 3600)
    dispatch.events_redispatch_pending()
    for event_id in [*sent_events, event.pk]:
        fan_out.event_deliver(event_id=event_id)
    assert [n.count for n in notifications_of(video.creator)] == [1]


def test_redispatching_a_failed_event_makes_it_pending_again(video, sent_events):
    event = services.video_share(sharer=UserFactory.create(), video=video, channel="link").event
    dispatch.event_mark_failed(event_id=event.pk, error="RuntimeError: boom")
    assert dispatch.events_redispatch(event_ids=[event.pk]) == 1
    event.refresh_from_db()
    assert (event.status, event.error, sent_events) == ("pending", "", [event.pk])
