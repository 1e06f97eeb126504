"""The live inbox stream (/api/inbox/stream/) against uvicorn and a real worker, read as an API client would."""

import http.client
import json
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from inbox import fan_out, live, stream_log
from inbox.models import InboxStream
from inbox.stream import _pushed_after
from video_platform.services import video_share

from .clients import api_client
from .factories import UserFactory, VideoFactory
from .waiting import wait_for_event

pytestmark = pytest.mark.django_db(transaction=True)


class EventStream:
    """A minimal Server-Sent Events reader over http.client: yields comments and messages in order."""

    def __init__(self, base_url: str, user, last_event_id: int | None = None):
        token, _ = Token.objects.get_or_create(user=user)
        url = urlsplit(base_url)
        self.connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        headers = {"Authorization": f"Token {token.key}", "Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.connection.request("GET", "/api/inbox/stream/", headers=headers)
        self.response = self.connection.getresponse()

    def next_block(self) -> dict:
        """The next message ({id, event, data}) or comment ({comment}); blocks until one arrives."""
        block: dict = {}
        while True:
            line = self.response.readline().decode()
            if line in ("\n", ""):
                if block:
                    return block
                if line == "":
                    raise AssertionError("the stream closed")
                continue
            field, _, value = line.rstrip("\n").partition(":")
            value = value.removeprefix(" ")
            if field == "":
                block["comment"] = value
            elif field == "data":
                block["raw"] = value
                block["data"] = json.loads(value)
            else:
                block[field] = value

    def next_message(self, event: str, *, within_seconds: float = 20) -> dict:
        """The next ``event`` message; fails if only keep-alives and other messages come for that long."""
        deadline = time.monotonic() + within_seconds
        while time.monotonic() < deadline:
            block = self.next_block()
            if block.get("event") == event:
                return block
        raise AssertionError(f"no {event} message within {within_seconds} s")

    def close(self):
        self.connection.close()


@pytest.fixture
def stream(asgi_server):
    opened = []

    def open_stream(user, last_event_id=None) -> EventStream:
        opened.append(EventStream(asgi_server, user, last_event_id))
        return opened[-1]

    yield open_stream
    for each in opened:
        each.close()


def _share(sharer, video, **data) -> dict:
    response = api_client(sharer).post(f"/api/videos/{video.pk}/shares/", data, format="json")
    assert response.status_code == 201, response.content
    return wait_for_event(api_client(sharer), response.json()["event_id"])


def _push(first: int, last: int) -> live.Push:
    return live.Push(first=first, last=last, messages=[f"id: {seq}\n\n" for seq in range(first, last + 1)])


@pytest.mark.parametrize(
    ("pushes", "after", "sent", "reads_log"),
    [
        pytest.param([_push(4, 5), _push(6, 6)], 3, [4, 5, 6], False, id="pushes-that-continue-are-sent"),
        pytest.param([_push(2, 3), _push(4, 4)], 3, [4], False, id="a-push-already-read-is-skipped"),
        pytest.param([_push(5, 5)], 3, [], True, id="a-gap-reads-the-log"),
        pytest.param([_push(4, 4), None, _push(5, 5)], 3, [4], True, id="a-wake-up-reads-the-log"),
        pytest.param([], 3, [], True, id="a-quiet-wait-reads-the-log"),
    ],
)
def test_a_stream_sends_pushes_only_while_they_continue_it(pushes, after, sent, reads_log):
    messages, position, must_read = _pushed_after(pushes, after)
    assert [int(message.split()[1]) for message in messages] == sent
    assert (position, must_read) == (sent[-1] if sent else after, reads_log)


def test_stream_needs_credentials(client):
    response = client.get("/api/inbox/stream/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_stream_opens_with_ok_comment_and_current_unread_count(stream, celery_worker):
    creator = UserFactory.create()
    events = stream(creator)
    assert events.response.status == 200
    assert events.response.getheader("Content-Type").startswith("text/event-stream")
    assert events.next_block() == {"comment": "ok"}
    opening = events.next_block()
    assert opening["event"] == "unread_count"
    zeros = dict.fromkeys(opening["data"]["by_category"], 0)
    assert opening["data"] == {"total": 0, "by_category": zeros, "capped": False}


def test_idle_stream_sends_keep_alive_comments(stream):
    events = stream(UserFactory.create())
    assert events.next_block() == {"comment": "ok"}
    assert events.next_block()["event"] == "unread_count"
    assert events.next_block() == {"comment": "ok"}


def test_link_share_streams_to_creator_without_naming_sharer(stream, celery_worker):
    creator = UserFactory.create(username="cara_streams")
    sharer = UserFactory.create(username="sid_secret", display_name="Sidney Secretsharer")
    video = VideoFactory.create(creator=creator)
    events = stream(creator)
    opening = events.next_message("unread_count")

    _share(sharer, video, channel="link")

    notification = events.next_message("notification")
    assert notification["data"]["type"] == "share"
    assert notification["data"]["actor"] is None
    assert notification["data"]["text"] == "Your video was shared once"
    assert "sid_secret" not in notification["raw"] and "Sidney" not in notification["raw"]
    count = events.next_message("unread_count")
    assert count["data"]["total"] == 1 and count["data"]["by_category"]["shares"] == 1
    assert int(opening["id"]) < int(notification["id"]) < int(count["id"])


def test_tag_share_streams_named_actor_to_tagged_user(stream, celery_worker):
    sharer = UserFactory.create(username="tess_tagger")
    tagged = UserFactory.create()
    video = VideoFactory.create()
    events = stream(tagged)
    events.next_message("unread_count")

    _share(sharer, video, channel="tag", tagged=[tagged.username])

    notification = events.next_message("notification")
    assert notification["data"]["type"] == "tag"
    assert notification["data"]["actor"]["username"] == "tess_tagger"


def test_group_bump_streams_the_new_count(stream, celery_worker):
    creator = UserFactory.create()
    video = VideoFactory.create(creator=creator)
    events = stream(creator)
    events.next_message("unread_count")

    _share(UserFactory.create(), video, channel="link")
    assert events.next_message("notification")["data"]["count"] == 1
    _share(UserFactory.create(), video, channel="link")
    bumped = events.next_message("notification")
    assert bumped["data"]["count"] == 2
    assert bumped["data"]["text"] == "Your video was shared 2 times"


def test_reconnect_with_last_event_id_replays_what_was_missed(stream, celery_worker):
    creator = UserFactory.create()
    video = VideoFactory.create(creator=creator)
    first = stream(creator)
    seen = first.next_message("unread_count")
    first.close()

    _share(UserFactory.create(), video, channel="link")
    _share(UserFactory.create(), video, channel="link")
    follower = UserFactory.create(username="fran_follows")
    response = api_client(follower).post(f"/api/users/{creator.username}/follow/")
    wait_for_event(api_client(follower), response.json()["event_id"])

    replay = stream(creator, last_event_id=int(seen["id"]))
    assert replay.next_block() == {"comment": "ok"}
    messages = [replay.next_block() for _ in range(3)]
    assert [m["event"] for m in messages] == ["notification", "notification", "unread_count"]
    share, follow, count = messages
    # The share group, bumped twice while away, arrives once as it is now.
    assert (share["data"]["type"], share["data"]["count"], share["data"]["actor"]) == ("share", 2, None)
    assert follow["data"]["actor"]["username"] == "fran_follows"
    assert count["data"]["total"] == 2
    ids = [int(m["id"]) for m in messages]
    assert ids == sorted(ids) and ids[0] > int(seen["id"])


def test_a_last_event_id_ahead_of_the_stream_counts_as_a_fresh_connection(stream, celery_worker):
    creator = UserFactory.create()
    video = VideoFactory.create(creator=creator)
    _share(UserFactory.create(), video, channel="link")

    events = stream(creator, last_event_id=10**9)

    assert events.next_block() == {"comment": "ok"}
    opening = events.next_block()
    assert (opening["event"], opening["data"]["total"]) == ("unread_count", 1)
    _share(UserFactory.create(), video, channel="link")
    bumped = events.next_message("notification")
    assert bumped["data"]["count"] == 2 and int(bumped["id"]) > int(opening["id"])


def test_a_last_event_id_older_than_the_kept_log_counts_as_a_fresh_connection(stream, celery_worker):
    creator = UserFactory.create()
    video = VideoFactory.create(creator=creator)
    first = stream(creator)
    seen = first.next_message("unread_count")
    first.close()
    _share(UserFactory.create(), video, channel="link")
    stream_log.stream_log_prune(older_than=timedelta(0))

    events = stream(creator, last_event_id=int(seen["id"]))

    assert events.next_block() == {"comment": "ok"}
    opening = events.next_block()
    assert (opening["event"], opening["data"]["total"]) == ("unread_count", 1)


def test_a_stream_back_after_the_replay_window_starts_afresh(stream, celery_worker):
    creator = UserFactory.create()
    video = VideoFactory.create(creator=creator)
    first = stream(creator)
    seen = first.next_message("unread_count")
    first.close()
    InboxStream.objects.filter(user=creator).update(present_until=timezone.now())  # away past the window
    _share(UserFactory.create(), video, channel="link")  # nobody watching: in the inbox, not in the log

    events = stream(creator, last_event_id=int(seen["id"]))

    assert events.next_block() == {"comment": "ok"}
    opening = events.next_block()
    assert (opening["event"], opening["data"]["total"]) == ("unread_count", 1)
    assert int(opening["id"]) > int(seen["id"])
    _share(UserFactory.create(), video, channel="link")
    assert events.next_message("notification")["data"]["count"] == 2


def test_marking_read_streams_the_lower_unread_count(stream, celery_worker):
    creator = UserFactory.create()
    video = VideoFactory.create(creator=creator)
    events = stream(creator)
    events.next_message("unread_count")
    _share(UserFactory.create(), video, channel="link")
    assert events.next_message("unread_count")["data"]["total"] == 1

    api_client(creator).post("/api/inbox/read-all/")

    assert events.next_message("unread_count")["data"]["total"] == 0


def test_a_stream_that_missed_a_push_reads_the_log_and_sends_what_it_missed_in_order(stream, monkeypatch):
    # This process delivers (no worker), and drops the first delivery's push as a Redis blip would.
    monkeypatch.setattr("inbox.dispatch.task_send", lambda *args, **options: True)
    creator = UserFactory.create()
    first_video, second_video = VideoFactory.create(creator=creator), VideoFactory.create(creator=creator)
    events = stream(creator)
    opening = events.next_message("unread_count")
    with monkeypatch.context() as blip:
        blip.setattr(live, "publish", lambda pushes: None)
        fan_out.event_deliver(
            event_id=video_share(sharer=UserFactory.create(), video=first_video, channel="link").event.pk
        )
    fan_out.event_deliver(
        event_id=video_share(sharer=UserFactory.create(), video=second_video, channel="link").event.pk
    )

    notifications = [events.next_message("notification") for _ in range(2)]
    assert [n["data"]["video"]["id"] for n in notifications] == [first_video.pk, second_video.pk]
    ids = [int(opening["id"]), *(int(n["id"]) for n in notifications)]
    assert ids == sorted(ids)
