"""Anonymous in time too: with share batching on, a share the creator is not named in changes nothing anyone
can read — count, pages, analytics, inbox, unread count, stream, headers — until its window is released,
and all of it at the release. The clock is injected (django.utils.timezone.now): no sleeps, no timing."""

import re
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.test import Client, override_settings
from django.utils.dateparse import parse_datetime

from inbox import batching as share_batching
from inbox.models import StreamEntry
from video_platform import services as platform
from video_platform.models import Share
from video_platform.schedules import EpochAlignedSchedule

from .clients import api_client
from .factories import UserFactory

pytestmark = pytest.mark.django_db

WINDOW = 600
# 5 s into a window, at noon UTC: the window closes at 12:10, well inside the same day.
START = datetime(2026, 6, 1, 12, 0, 5, tzinfo=UTC)
WINDOW_END = datetime(2026, 6, 1, 12, 10, tzinfo=UTC)
MIN_CROWD_OF_THREE = dict(
    SHARE_NOTIFICATION_BATCH_SECONDS=WINDOW, SHARE_RELEASE_MIN_CROWD=3, SHARE_RELEASE_MAX_DELAY_SECONDS=3600
)
# CSRF tokens are masked afresh on every render; they are not a trace of anything.
CSRF_TOKEN = re.compile(r"[A-Za-z0-9]{64}")


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock():
    """Every timestamp the project takes (timezone.now) reads this clock."""
    injected = Clock(START)
    with mock.patch("django.utils.timezone.now", injected):
        yield injected


@pytest.fixture
def batching():
    with override_settings(SHARE_NOTIFICATION_BATCH_SECONDS=WINDOW, SHARE_RELEASE_MIN_CROWD=1):
        yield


@pytest.fixture
def pro_creator(clock, creator):
    platform.profile_update(user=creator, is_pro=True)
    return creator


@pytest.fixture
def clip(pro_creator):
    return platform.video_create(creator=pro_creator, caption="a clip worth sharing")


def surfaces(creator, video, *, clock: Clock, at: datetime) -> dict[str, object]:
    """Everything the creator can read at the instant ``at``, each answer's body and headers (cookies aside).

    Two readings at one instant differ only by what happened, not by "posted 9 minutes ago".
    """
    now, clock.now = clock.now, at
    try:
        return _read_surfaces(creator, video)
    finally:
        clock.now = now


def _read_surfaces(creator, video) -> dict[str, object]:
    api, pages = api_client(creator), Client()
    pages.force_login(creator)
    reads = {
        "video API": (api, f"/api/videos/{video.pk}/"),
        "video list API": (api, "/api/videos/"),
        "profile API": (api, f"/api/users/{creator.username}/"),
        "analytics API": (api, "/api/analytics/?days=7"),
        "inbox API": (api, "/api/inbox/"),
        "unread count API": (api, "/api/inbox/unread-count/"),
        "feed page": (pages, "/"),
        "video page": (pages, f"/videos/{video.pk}/"),
        "profile page": (pages, f"/u/{creator.username}/"),
        "inbox page": (pages, "/inbox/"),
        "analytics page": (pages, "/analytics/"),
    }
    seen = {}
    for surface, (client, url) in reads.items():
        response = client.get(url, secure=True)
        assert response.status_code == 200, (surface, response.status_code)
        headers = {name: value for name, value in response.headers.items() if name != "Set-Cookie"}
        seen[surface] = (CSRF_TOKEN.sub("", response.content.decode()), headers)
    # The live stream sends exactly its log, replayed from Last-Event-ID.
    seen["stream"] = list(StreamEntry.objects.filter(recipient=creator).values_list("seq", "kind", "notification_id"))
    return seen


def moved(before: dict, after: dict) -> set[str]:
    return {surface for surface in before if before[surface] != after[surface]}


@pytest.fixture
def share(deliver):
    """``share(sharer, video, **data)``: a share through the API, delivered; answers the API's answer."""

    def share_delivered(sharer, video, **data) -> dict:
        response = api_client(sharer).post(f"/api/videos/{video.pk}/shares/", data, format="json")
        assert response.status_code == 201, response.content
        deliver(response.json()["event_id"])
        return response.json()

    return share_delivered


def shares_seen(user, video) -> int:
    return api_client(user).get(f"/api/videos/{video.pk}/").json()["counts"]["shares"]


def analytics_shares(creator) -> tuple[int, int]:
    body = api_client(creator).get("/api/analytics/?days=7").json()
    return body["totals"]["shares"], body["daily"][-1]["shares"]


@pytest.mark.usefixtures("batching")
def test_a_link_share_changes_nothing_the_creator_can_read_until_its_window_is_released(
    clock, pro_creator, clip, share
):
    just_before_release = WINDOW_END - timedelta(microseconds=1)
    before = surfaces(pro_creator, clip, clock=clock, at=just_before_release)
    share(UserFactory.create(), clip, channel="link")
    clock.now = just_before_release
    share_batching.held_shares_release()

    assert moved(before, surfaces(pro_creator, clip, clock=clock, at=just_before_release)) == set()


@pytest.mark.usefixtures("batching")
def test_a_link_share_moves_every_surface_at_its_window_release(clock, pro_creator, clip, share):
    before = surfaces(pro_creator, clip, clock=clock, at=WINDOW_END)
    share(UserFactory.create(), clip, channel="link")
    clock.now = WINDOW_END
    share_batching.held_shares_release()

    # The profile API carries no share figure; every other surface shows the share.
    assert moved(before, surfaces(pro_creator, clip, clock=clock, at=WINDOW_END)) == set(before) - {"profile API"}
    assert shares_seen(pro_creator, clip) == 1
    assert analytics_shares(pro_creator) == (1, 1)
    unread = api_client(pro_creator).get("/api/inbox/unread-count/").json()
    assert (unread["total"], unread["by_category"]["shares"]) == (1, 1)
    inbox = api_client(pro_creator).get("/api/inbox/").json()["results"]
    assert [(n["type"], n["actor"], n["count"], n["updated_at"]) for n in inbox] == [
        ("share", None, 1, "2026-06-01T12:10:00Z")
    ]


@pytest.mark.usefixtures("batching")
def test_while_held_nobody_sees_the_share_counted_not_the_sharer_nor_a_bystander(clock, pro_creator, clip, share):
    sharer, bystander = UserFactory.create(), UserFactory.create()
    answer = share(sharer, clip, channel="link")

    assert answer["share_count"] == 0
    assert [shares_seen(user, clip) for user in (pro_creator, sharer, bystander)] == [0, 0, 0]
    clock.now = WINDOW_END
    share_batching.held_shares_release()
    assert [shares_seen(user, clip) for user in (pro_creator, sharer, bystander)] == [1, 1, 1]


@pytest.mark.usefixtures("batching")
def test_a_tag_share_naming_others_reaches_the_tagged_user_at_once_and_named_but_the_creator_at_release(
    clock, pro_creator, clip, share
):
    sharer, tagged = UserFactory.create(username="ana_sharer"), UserFactory.create()
    before = surfaces(pro_creator, clip, clock=clock, at=START)
    share(sharer, clip, channel="tag", tagged=[tagged.username])

    tags = api_client(tagged).get("/api/inbox/").json()["results"]
    assert [(n["type"], n["actor"]["username"]) for n in tags] == [("tag", "ana_sharer")]
    assert moved(before, surfaces(pro_creator, clip, clock=clock, at=START)) == set()
    clock.now = WINDOW_END
    share_batching.held_shares_release()
    inbox = api_client(pro_creator).get("/api/inbox/").json()["results"]
    assert [(n["type"], n["actor"]) for n in inbox] == [("share", None)]
    assert shares_seen(pro_creator, clip) == 1


@pytest.mark.usefixtures("batching")
def test_a_share_that_names_the_creator_is_counted_and_shown_named_at_once(clock, pro_creator, clip, share):
    share(UserFactory.create(username="ben_sharer"), clip, channel="dm", recipients=[pro_creator.username])

    inbox = api_client(pro_creator).get("/api/inbox/").json()["results"]
    assert [(n["type"], n["actor"]["username"]) for n in inbox] == [("message", "ben_sharer")]
    assert shares_seen(pro_creator, clip) == 1
    assert analytics_shares(pro_creator) == (1, 1)


@pytest.mark.usefixtures("batching")
def test_a_creator_who_muted_shares_still_sees_the_count_move_only_at_the_release(clock, pro_creator, clip, share):
    platform.profile_update(user=pro_creator, muted_types=["share"])
    share(UserFactory.create(), clip, channel="link")

    assert shares_seen(pro_creator, clip) == 0
    clock.now = WINDOW_END
    share_batching.held_shares_release()
    assert shares_seen(pro_creator, clip) == 1


@pytest.mark.usefixtures("batching")
def test_every_share_whatever_its_channel_adds_exactly_one_once_released(clock, pro_creator, clip, share):
    others = [UserFactory.create() for _ in range(3)]
    share(others[0], clip, channel="link")
    share(others[1], clip, channel="tag", tagged=[others[2].username])
    share(others[2], clip, channel="dm", recipients=[others[0].username])
    share(others[0], clip, channel="tag", tagged=[pro_creator.username])

    assert shares_seen(pro_creator, clip) == 1
    clock.now = WINDOW_END
    share_batching.held_shares_release()
    share_batching.held_shares_release()
    assert shares_seen(pro_creator, clip) == 4
    assert platform.video_counts_rebuild(video=clip) == {}
    assert analytics_shares(pro_creator) == (4, 4)


@pytest.mark.usefixtures("batching")
def test_a_share_released_after_midnight_counts_in_analytics_on_the_day_it_was_released(
    clock, pro_creator, clip, share
):
    clock.now = datetime(2026, 6, 1, 23, 59, 30, tzinfo=UTC)
    share(UserFactory.create(), clip, channel="link")
    clock.now = datetime(2026, 6, 2, 0, 0, tzinfo=UTC)
    share_batching.held_shares_release()

    daily = api_client(pro_creator).get("/api/analytics/?days=7").json()["daily"]
    assert [(entry["date"], entry["shares"]) for entry in daily[-2:]] == [("2026-06-01", 0), ("2026-06-02", 1)]


@pytest.mark.usefixtures("batching")
def test_release_held_for_qa_counts_held_shares_at_once(clock, pro_creator, clip, share):
    share(UserFactory.create(), clip, channel="link")
    staff = UserFactory.create(is_staff=True)

    assert api_client(staff).post("/api/qa/release-held/").json() == {"released": 1}
    assert shares_seen(pro_creator, clip) == 1


def test_without_batching_a_link_share_is_counted_in_its_own_answer(clock, pro_creator, clip, share):
    with override_settings(SHARE_NOTIFICATION_BATCH_SECONDS=0):
        answer = share(UserFactory.create(), clip, channel="link")
    assert answer["share_count"] == 1 and shares_seen(pro_creator, clip) == 1


@override_settings(**MIN_CROWD_OF_THREE)
def test_with_a_minimum_crowd_a_lone_share_waits_for_the_hour_boundary(clock, pro_creator, clip, share):
    event_id = share(UserFactory.create(), clip, channel="link")["event_id"]
    for boundary in range(1, 6):  # 12:10 … 12:50: the window holds one share, fewer than three
        clock.now = START.replace(second=0) + timedelta(seconds=WINDOW * boundary)
        share_batching.held_shares_release()
        assert shares_seen(pro_creator, clip) == 0
        assert api_client(pro_creator).get("/api/inbox/").json()["results"] == []
    event = api_client(pro_creator).get(f"/api/events/{event_id}/")
    assert event.status_code == 404  # the creator never sees the sharer's event
    sharer_view = Share.objects.get().sharer
    assert parse_datetime(api_client(sharer_view).get(f"/api/events/{event_id}/").json()["release_at"]) == datetime(
        2026, 6, 1, 13, 0, tzinfo=UTC
    )

    clock.now = datetime(2026, 6, 1, 13, 0, tzinfo=UTC)
    share_batching.held_shares_release()
    assert shares_seen(pro_creator, clip) == 1
    assert api_client(sharer_view).get(f"/api/events/{event_id}/").json()["status"] == "done"


@override_settings(**MIN_CROWD_OF_THREE)
def test_with_a_minimum_crowd_carried_shares_are_released_together_once_the_crowd_is_reached(
    clock, pro_creator, clip, share
):
    share(UserFactory.create(), clip, channel="link")
    clock.now = datetime(2026, 6, 1, 12, 10, tzinfo=UTC)
    share_batching.held_shares_release()
    clock.now = datetime(2026, 6, 1, 12, 14, tzinfo=UTC)
    share(UserFactory.create(), clip, channel="link")
    share(UserFactory.create(), clip, channel="tag", tagged=[UserFactory.create().username])
    clock.now = datetime(2026, 6, 1, 12, 20, tzinfo=UTC)
    share_batching.held_shares_release()

    assert shares_seen(pro_creator, clip) == 3
    inbox = api_client(pro_creator).get("/api/inbox/").json()["results"]
    assert [(n["type"], n["count"], n["actor"]) for n in inbox] == [("share", 3, None)]


@override_settings(**MIN_CROWD_OF_THREE)
def test_a_minimum_crowd_is_counted_per_creator(clock, pro_creator, clip, share):
    busy_video = platform.video_create(creator=UserFactory.create(), caption="busy")
    share(UserFactory.create(), clip, channel="link")
    for _ in range(3):
        share(UserFactory.create(), busy_video, channel="link")
    clock.now = WINDOW_END
    share_batching.held_shares_release()

    assert (shares_seen(pro_creator, clip), shares_seen(pro_creator, busy_video)) == (0, 3)


def test_the_release_schedule_is_due_at_each_epoch_aligned_window_boundary():
    now = [datetime(2026, 6, 1, 12, 9, 58, tzinfo=UTC)]
    schedule = EpochAlignedSchedule(run_every=WINDOW, nowfun=lambda: now[0])
    last_run = datetime(2026, 6, 1, 12, 0, 0, 500000, tzinfo=UTC)

    assert schedule.is_due(last_run) == (False, 2.0)
    now[0] = datetime(2026, 6, 1, 12, 10, 0, 250000, tzinfo=UTC)
    assert schedule.is_due(last_run) == (True, 599.75)
    assert schedule.is_due(now[0]) == (False, 599.75)
