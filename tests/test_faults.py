"""Delivery under faults: workers killed, the broker down, database connections cut, rolled-back
actions, duplicated tasks. In every case no notification is lost or duplicated and counts are exact.

These tests run a private deployment (tests/fault_stack.py): their own redis-server, gunicorn and
celery workers on the test database, which they kill and restart.
"""

import contextlib
import itertools
import os
import random
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from celery.signals import before_task_publish
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count, Sum
from kombu import Connection, Exchange, Queue
from rest_framework.authtoken.models import Token

from inbox.batching import batch_window_start
from inbox.models import EventChunk, HeldShare, Notification
from inbox.tasks import fan_out_event, fan_out_post_chunk
from video_platform import services
from video_platform.models import Event, EventStatus, Follow, Profile, Share, Video

from .clients import api_client as local_api_client
from .factories import UserFactory, VideoFactory
from .fault_stack import WORKER_APPLICATION_NAME, ApiUser, needs_fault_stack
from .waiting import wait_for_event, wait_until

User = get_user_model()

pytestmark = pytest.mark.django_db(transaction=True)

BROKER_TRANSPORT = "video_platform.broker:Transport"  # what settings.py picks with REDIS_URL
SUCCEEDED = r"Task {name}\[[^\]]+\] succeeded"
LOAD_MIN_STEPS, LOAD_MAX_STEPS = 500, 3000  # actions 0.05 s apart: 25 s at least, 150 s at most


@pytest.fixture
def rng():
    seed = int(os.environ.get("FAULT_SEED") or time.time_ns() % 1_000_000)
    print(f"FAULT_SEED={seed}")
    return random.Random(seed)


def bulk_users(prefix: str, count: int) -> list:
    users = User.objects.bulk_create(User(username=f"{prefix}{i}", password="!") for i in range(count))
    Profile.objects.bulk_create(Profile(user=u, display_name=u.username) for u in users)
    return users


def bulk_followers(creator, count: int) -> list:
    followers = bulk_users(f"{creator.username}_fan", count)
    Follow.objects.bulk_create(Follow(follower=f, followee=creator) for f in followers)
    return followers


def tokens_for(users) -> list[str]:
    tokens = Token.objects.bulk_create(Token(key=Token.generate_key(), user=u) for u in users)
    return [t.key for t in tokens]


def pending_events() -> int:
    return Event.objects.exclude(status=EventStatus.DONE).count()


def wait_for_delivery(stack, *, timeout: float, what: str) -> None:
    """Wait until no event is pending; on timeout, say which events and what the broker holds."""
    try:
        wait_until(lambda: pending_events() == 0, timeout=timeout, what=what)
    except AssertionError as error:
        stuck = [
            (e.pk, e.kind, e.status, e.attempts, e.chunks_done, len(e.chunk_bounds or ()), e.error[:200])
            for e in Event.objects.exclude(status=EventStatus.DONE)[:20]
        ]
        raise AssertionError(
            f"{error}; {stack.describe_broker()}; not done: {stuck}\n{stack.describe_workers()}"
        ) from None


def assert_all_done() -> None:
    states = dict(Event.objects.values_list("status").annotate(n=Count("id")).order_by())
    assert states.keys() == {EventStatus.DONE}, f"events not all done: {states}"


def assert_share_groups_exact(creator, expected: dict[int, int]) -> None:
    """The creator holds exactly one open share group per video, counting every share exactly once."""
    groups = Notification.objects.filter(recipient=creator, type="share")
    by_video = dict(groups.values_list("video_id").annotate(total=Sum("count")).order_by())
    assert by_video == {video_id: n for video_id, n in expected.items() if n}
    assert groups.count() == len(by_video)
    assert not groups.exclude(actor=None).exists()
    share_counts = dict(Video.objects.filter(pk__in=expected).values_list("pk", "share_count"))
    assert share_counts == expected
    assert Share.objects.filter(video_id__in=expected).count() == sum(expected.values())


def assert_post_fan_out_exact(post_event_ids: list[int], followers: list) -> None:
    """Every follower got exactly one ``post`` notification per new video; no one else got any."""
    posts = Notification.objects.filter(type="post", event_id__in=post_event_ids)
    per_follower = posts.values("recipient_id").annotate(n=Count("id")).order_by()
    counts = {row["recipient_id"]: row["n"] for row in per_follower}
    assert counts.keys() == {f.pk for f in followers}
    assert set(counts.values()) == {len(post_event_ids)}
    for event in Event.objects.filter(pk__in=post_event_ids):
        assert event.notification_count == len(followers), event
        assert event.chunks_done == len(event.chunk_bounds), event
        assert EventChunk.objects.filter(event=event).count() == len(event.chunk_bounds)


@needs_fault_stack
def test_killing_workers_at_random_points_loses_and_duplicates_nothing(stack, rng):
    # Celery redelivers a killed worker's tasks after the 4 s visibility timeout; the sweeper, as in
    # production, re-sends only what is still pending well after that: the message Kombu's Redis
    # transport loses when a worker dies between popping it (BRPOP) and recording it as unacked.
    stack.extra_env["EVENT_REDISPATCH_AFTER_SECONDS"] = "20"
    creator = UserFactory.create(username="kill_creator")
    followers = bulk_followers(creator, int(os.environ.get("FAULT_FOLLOWERS", "5000")))
    sharers = bulk_users("kill_sharer", 40)
    videos = [VideoFactory.create(creator=creator) for _ in range(4)]
    web = stack.start_web()
    clients = [ApiUser(web, key) for key in tokens_for(sharers)]
    creator_client = ApiUser(stack.web_url, tokens_for([creator])[0])

    # The load goes on until ten kills have hit a worker with work to do, however fast the fan-out has
    # become: a fixed amount of work let the workers finish it before enough kills (seen in CI).
    results, kills_done, load_done = [], threading.Event(), threading.Event()

    def plan():
        for step in itertools.count():
            if step >= LOAD_MAX_STEPS or (step >= LOAD_MIN_STEPS and kills_done.is_set()):
                return
            yield ("post", None) if step % 100 == 0 else ("share", rng.choice(videos).pk)

    def act(step):
        kind, video_id = step
        if kind == "post":
            return kind, video_id, creator_client.post("/api/videos/", {"caption": "fresh"})
        return kind, video_id, rng.choice(clients).post(f"/api/videos/{video_id}/shares/", {"channel": "link"})

    def load():
        # Paced so that the actions keep arriving while workers are being killed.
        with ThreadPoolExecutor(4) as pool:
            futures = []
            for step in plan():
                futures.append(pool.submit(act, step))
                time.sleep(0.05)
            results.extend(f.result() for f in futures)
        load_done.set()

    stack.start_beat()
    loader = threading.Thread(target=load)
    loader.start()
    rounds, busy_kills, worker = 0, 0, stack.start_worker()
    while (rounds < 12 or busy_kills < 10) and not load_done.is_set():
        if worker is None:
            worker = stack.start_worker()
        time.sleep(rng.uniform(0.2, 1.5))
        busy = pending_events() > 0
        if rng.random() < 0.5 and stack.kill_worker_child(worker, rng):
            kind = "child"
        else:
            stack.kill_worker_parent(worker)
            worker, kind = None, "parent"
        rounds += 1
        busy_kills += busy
        print(f"round {rounds}: killed the worker's {kind}, events pending: {busy}")
    kills_done.set()
    loader.join()
    if worker is None:
        worker = stack.start_worker()
    wait_for_delivery(stack, timeout=120, what="every event to be delivered")
    swept = Event.objects.filter(attempts__gt=1).count()
    print(f"{rounds} kills, {busy_kills} while busy; {swept} events re-sent by the sweeper")

    assert busy_kills >= 10, f"only {busy_kills} of {rounds} kills hit a worker with work to do"
    assert [status for _, _, (status, _) in results] == [201] * len(results), results
    assert_all_done()
    post_events = [body["event_id"] for kind, _, (_, body) in results if kind == "post"]
    assert_post_fan_out_exact(post_events, followers)
    expected = {v.pk: sum(1 for kind, vid, _ in results if kind == "share" and vid == v.pk) for v in videos}
    assert_share_groups_exact(creator, expected)
    assert set(Event.objects.filter(kind="share").values_list("notification_count", flat=True)) == {1}


@needs_fault_stack
def test_broker_outage_keeps_actions_succeeding_and_the_sweeper_delivers_everything(stack):
    stack.extra_env["POST_FAN_OUT_CHUNK_SIZE"] = "100"
    creator = UserFactory.create(username="outage_creator")
    followers = bulk_followers(creator, 3000)
    sharers = bulk_users("outage_sharer", 10)
    video = VideoFactory.create(creator=creator)
    web = stack.start_web()
    clients = [ApiUser(web, key) for key in tokens_for(sharers)]
    creator_client = ApiUser(stack.web_url, tokens_for([creator])[0])
    stack.start_worker()
    stack.start_beat()

    before = [c.post(f"/api/videos/{video.pk}/shares/", {"channel": "link"}) for c in clients[:3]]
    before.append(creator_client.post("/api/videos/", {"caption": "posted just before the outage"}))
    assert [status for status, _ in before] == [201] * len(before)
    first_post = before[-1][1]["event_id"]
    # Redis dies while the first post's 30 chunks are being fanned out.
    wait_until(lambda: EventChunk.objects.filter(event_id=first_post).exists(), timeout=60, what="the fan-out")
    stack.kill_redis()
    during = [c.post(f"/api/videos/{video.pk}/shares/", {"channel": "link"}) for c in clients for _ in range(2)]
    during.append(creator_client.post("/api/videos/", {"caption": "posted while the broker is down"}))
    during += [c.post(f"/api/videos/{video.pk}/likes/") for c in clients[:5]]
    assert [status for status, _ in during] == [201] * len(during), during
    outage_events = [body["event_id"] for _, body in during]
    assert Event.objects.filter(pk__in=outage_events, status=EventStatus.PENDING).count() == len(outage_events)

    stack.start_redis()
    wait_for_delivery(stack, timeout=120, what="the sweeper to deliver the outage's events")

    assert_all_done()
    assert_share_groups_exact(creator, {video.pk: 3 + 2 * len(clients)})
    assert_post_fan_out_exact([first_post, outage_events[2 * len(clients)]], followers)
    likes = Notification.objects.get(recipient=creator, type="like")
    assert likes.count == 5


def terminate_worker_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s AND pid <> pg_backend_pid()",
            [WORKER_APPLICATION_NAME],
        )
        return cursor.fetchone()[0]


@needs_fault_stack
def test_database_connections_cut_mid_fan_out_are_retried_until_the_fan_out_completes(stack, rng):
    stack.extra_env["POST_FAN_OUT_CHUNK_SIZE"] = "100"
    creator = UserFactory.create(username="dbcut_creator")
    followers = bulk_followers(creator, 5000)
    creator_client = ApiUser(stack.start_web(), tokens_for([creator])[0])
    worker = stack.start_worker()

    post_events, terminated = [], 0
    retried = re.compile(r"inbox\.fan_out_\w+\[[^\]]+\] retry: Retry in")
    # Cut connections until the workers have visibly retried at least once (each post is 50 chunks).
    while not retried.search(worker.log.read_text()) and len(post_events) < 5:
        status, body = creator_client.post("/api/videos/", {"caption": f"post {len(post_events)}"})
        assert status == 201, body
        post_events.append(body["event_id"])
        while Event.objects.filter(pk=body["event_id"], status=EventStatus.PENDING).exists():
            terminated += terminate_worker_connections()
            time.sleep(rng.uniform(0.02, 0.2))
    wait_for_delivery(stack, timeout=180, what="the retried fan-out to finish")
    print(f"{terminated} worker connections terminated over {len(post_events)} posts")

    assert retried.search(worker.log.read_text()), "no task was ever retried: the connections were never cut mid-task"
    assert_all_done()
    assert_post_fan_out_exact(post_events, followers)


class Rollback(Exception):
    pass


@pytest.fixture
def published():
    """Every task message this process hands to the broker: (task name, args)."""
    sent = []

    def record(sender=None, body=None, **kwargs):
        sent.append((sender, list(body[0])))

    before_task_publish.connect(record, weak=False)
    yield sent
    before_task_publish.disconnect(record)


@pytest.mark.parametrize("action", ["share", "post", "follow", "comment"])
def test_an_action_whose_transaction_rolls_back_sends_nothing(action, published, celery_worker):
    creator = UserFactory.create(username="rollback_creator")
    actor = UserFactory.create(username="rollback_actor")
    Follow.objects.create(follower=actor, followee=creator)
    video = VideoFactory.create(creator=creator)
    perform = {
        "share": lambda: services.video_share(sharer=actor, video=video, channel="link"),
        "post": lambda: services.video_create(creator=creator, caption="never posted"),
        "follow": lambda: services.follow_create(follower=creator, followee=actor),
        "comment": lambda: services.comment_create(author=actor, video=video, text="never said"),
    }[action]
    with pytest.raises(Rollback), transaction.atomic():
        perform()
        raise Rollback

    assert published == []
    assert not Event.objects.exists()
    video.refresh_from_db()
    assert (video.share_count, video.comment_count, Video.objects.count()) == (0, 0, 1)

    control = perform()
    assert published == [("inbox.fan_out_event", [control.event.pk])]
    assert wait_for_event(local_api_client(control.event.actor), control.event.pk)["status"] == "done"
    assert Event.objects.count() == 1
    assert Notification.objects.count() == Event.objects.get().notification_count == 1


@needs_fault_stack
def test_the_same_task_delivered_twice_changes_nothing(stack):
    creator = UserFactory.create(username="twice_creator")
    followers = bulk_followers(creator, 450)
    sharers = bulk_users("twice_sharer", 3)
    video = VideoFactory.create(creator=creator)
    web = stack.start_web()
    clients = [ApiUser(web, key) for key in tokens_for(sharers)]
    creator_client = ApiUser(web, tokens_for([creator])[0])

    # No worker yet: each share's task waits in the queue, and a forced copy of it is queued beside it.
    share_events = [c.post(f"/api/videos/{video.pk}/shares/", {"channel": "link"})[1]["event_id"] for c in clients]
    with Connection(stack.redis_url) as broker:
        for event_id in share_events:
            fan_out_event.apply_async((event_id,), connection=broker)
    worker = stack.start_worker()

    def count_succeeded(name):
        return len(re.findall(SUCCEEDED.format(name=re.escape(name)), worker.log.read_text()))

    wait_until(lambda: count_succeeded("inbox.fan_out_event") >= 6, timeout=60, what="both copies of every share")
    assert_all_done()
    assert_share_groups_exact(creator, {video.pk: 3})

    status, body = creator_client.post("/api/videos/", {"caption": "once"})
    assert status == 201
    post_event = body["event_id"]
    wait_for_delivery(stack, timeout=60, what="the post's fan-out")
    chunks = len(Event.objects.get(pk=post_event).chunk_bounds)
    assert chunks == 3
    wait_until(lambda: count_succeeded("inbox.fan_out_post_chunk") >= chunks, timeout=60, what="every chunk")
    snapshot = list(Notification.objects.order_by("pk").values_list("pk", "recipient_id", "type", "count"))

    # Every task of both actions, delivered again twice over, after they were done.
    with Connection(stack.redis_url) as broker:
        for _ in range(2):
            for event_id in [*share_events, post_event]:
                fan_out_event.apply_async((event_id,), connection=broker)
            for index in range(chunks):
                fan_out_post_chunk.apply_async((post_event, index), connection=broker)
    wait_until(lambda: count_succeeded("inbox.fan_out_event") >= 6 + 1 + 8, timeout=60, what="the repeated events")
    wait_until(lambda: count_succeeded("inbox.fan_out_post_chunk") >= 3 * chunks, timeout=60, what="repeated chunks")

    assert list(Notification.objects.order_by("pk").values_list("pk", "recipient_id", "type", "count")) == snapshot
    assert_all_done()
    assert_share_groups_exact(creator, {video.pk: 3})
    assert_post_fan_out_exact([post_event], followers)


@needs_fault_stack
def test_batched_share_notifications_reach_the_creator_only_after_their_window_closes(stack):
    stack.extra_env["SHARE_NOTIFICATION_BATCH_SECONDS"] = "3"
    creator = UserFactory.create(username="batch_creator")
    sharers = bulk_users("batch_sharer", 4)
    video = VideoFactory.create(creator=creator)
    web = stack.start_web()
    stack.start_worker()
    stack.start_beat()

    for client in [ApiUser(web, key) for key in tokens_for(sharers)]:
        assert client.post(f"/api/videos/{video.pk}/shares/", {"channel": "link"})[0] == 201
    wait_for_delivery(stack, timeout=60, what="the share events")
    wait_until(lambda: not HeldShare.objects.exists(), timeout=60, what="beat to release the held shares")

    assert_share_groups_exact(creator, {video.pk: 4})
    first_share = Event.objects.order_by("created_at").first().created_at
    first_window_end = batch_window_start(first_share, 3) + timedelta(seconds=3)
    assert Notification.objects.get(recipient=creator).created_at >= first_window_end


@needs_fault_stack
def test_a_worker_connection_closes_cleanly_when_redis_dies_during_a_brpop(stack):
    """Celery's steps on a lost connection (collect, then close) with a task unacknowledged, the next
    BRPOP sent and a remote-control channel open: the worker must live to reconnect (video_platform/broker.py)."""
    with Connection(stack.redis_url, transport=BROKER_TRANSPORT) as producer:
        producer.SimpleQueue("probe").put({"task": 1})
    connection = Connection(stack.redis_url, transport=BROKER_TRANSPORT)
    channel = connection.default_channel
    channel.basic_qos(prefetch_count=2)
    delivered = []
    connection.Consumer(Queue("probe"), callbacks=[lambda body, message: delivered.append(message)]).consume()
    broadcast = Queue("probe.control", Exchange("probe.broadcast", type="fanout"), auto_delete=True)
    connection.Consumer(broadcast, channel=connection.channel()).consume()

    def drained() -> list:
        with contextlib.suppress(TimeoutError):
            connection.drain_events(timeout=1)
        return delivered

    wait_until(drained, timeout=10, what="the task message")
    connection.transport.cycle.on_poll_start()  # the event loop sends the next BRPOP: the queue is empty
    assert channel._in_poll and not delivered[0].acknowledged

    stack.kill_redis()
    connection.collect(socket_timeout=1)
    connection.close()
    assert channel.closed
