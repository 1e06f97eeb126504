"""Paging the inbox: what a cursor promises, what it cannot (a group bumped to the top while a client walks
the pages), `?since=` for what changed after a point, and one answer for every invalid cursor."""

from base64 import b64encode
from datetime import timedelta

import pytest
from django.utils import timezone

from inbox import stream_log
from inbox.models import InboxStream

from .clients import api_client
from .factories import UserFactory, VideoFactory

pytestmark = pytest.mark.django_db

INVALID_CURSOR = {"cursor": ["Invalid cursor: use `next` or `previous` as given."]}


def encoded(text: str) -> str:
    return b64encode(text.encode()).decode()


@pytest.fixture
def like(deliver):
    """``like(user, video)``: a like through the API, delivered."""

    def like_delivered(user, video) -> None:
        assert api_client(user).post(f"/api/videos/{video.pk}/likes/").status_code in (200, 201)
        deliver()

    return like_delivered


@pytest.fixture
def share(deliver):
    """``share(user, video, **data)``: a share through the API, delivered."""

    def share_delivered(user, video, **data) -> None:
        response = api_client(user).post(f"/api/videos/{video.pk}/shares/", data, format="json")
        assert response.status_code == 201, response.content
        deliver()

    return share_delivered


def walk(client, url: str | None) -> list[dict]:
    seen = []
    while url:
        page = client.get(url).json()
        seen += page["results"]
        url = page["next"]
    return seen


def test_a_group_bumped_while_paging_is_not_on_later_pages_and_since_returns_it(creator, like):
    videos = [VideoFactory.create(creator=creator) for _ in range(7)]
    for video in videos:
        like(UserFactory.create(), video)
    client = api_client(creator)
    first = client.get("/api/inbox/?limit=5").json()
    assert [n["video"]["id"] for n in first["results"]] == [v.pk for v in reversed(videos[2:])]

    like(UserFactory.create(), videos[0])  # a new like on the oldest video bumps its group to the top

    assert [n["video"]["id"] for n in walk(client, first["next"])] == [videos[1].pk]
    changed = client.get(f"/api/inbox/?since={first['stream_position']}").json()
    assert [(n["video"]["id"], n["count"]) for n in changed["results"]] == [(videos[0].pk, 2)]


def test_since_returns_what_changed_newest_first_and_still_hides_the_sharer(creator, video, like, share):
    client = api_client(creator)
    like(UserFactory.create(), video)
    position = client.get("/api/inbox/").json()["stream_position"]
    sharer = UserFactory.create(username="sid_secret", display_name="Sidney Secretsharer")
    tagger = UserFactory.create(username="tess_tagger")

    share(sharer, video, channel="link")
    share(tagger, VideoFactory.create(), channel="tag", tagged=[creator.username])

    response = client.get(f"/api/inbox/?since={position}")
    changed = response.json()["results"]
    assert [(n["type"], n["actor"]) for n in changed] == [
        ("tag", {"username": "tess_tagger", "display_name": "Tess_Tagger"}),
        ("share", None),
    ]
    assert changed[1]["text"] == "Your video was shared once"
    assert b"sid_secret" not in response.content and b"Sidney" not in response.content
    assert response.json()["stream_position"] > position


def test_since_the_latest_position_returns_nothing(creator, video, like):
    like(UserFactory.create(), video)
    client = api_client(creator)
    position = client.get("/api/inbox/").json()["stream_position"]
    assert client.get(f"/api/inbox/?since={position}").json()["results"] == []


@pytest.mark.parametrize("since", ["1000000", "-1", "soon"])
def test_since_ahead_of_the_stream_or_not_a_stream_id_is_a_field_error(creator, video, since, like):
    like(UserFactory.create(), video)
    response = api_client(creator).get(f"/api/inbox/?since={since}")
    assert (response.status_code, list(response.json())) == (400, ["since"])
    assert since not in response.content.decode()


def test_since_older_than_the_kept_log_is_a_field_error(creator, video, like):
    client = api_client(creator)
    position = client.get("/api/inbox/").json()["stream_position"]
    like(UserFactory.create(), video)
    stream_log.stream_log_prune(older_than=timedelta(0))
    response = client.get(f"/api/inbox/?since={position}")
    assert (response.status_code, list(response.json())) == (400, ["since"])


def test_since_from_before_the_inbox_was_watched_again_is_a_field_error(creator, video, like):
    client = api_client(creator)
    position = client.get("/api/inbox/").json()["stream_position"]
    InboxStream.objects.filter(user=creator).update(present_until=timezone.now())  # the replay window ran out
    like(UserFactory.create(), video)  # not logged: nobody watching

    response = client.get(f"/api/inbox/?since={position}")

    assert (response.status_code, list(response.json())) == (400, ["since"])
    fresh = client.get("/api/inbox/").json()
    assert [n["type"] for n in fresh["results"]] == ["like"] and fresh["stream_position"] > position


@pytest.mark.parametrize(
    "cursor",
    [
        "!!!",
        "",
        "not base64",
        encoded("p=garbage" + "x" * 5000),
        encoded("o=bad"),
        encoded("o=-1"),
        encoded("o=99999"),
        encoded("r=2"),
        encoded("o=1&o=2"),
        encoded("q=1"),
        encoded("garbage"),
        encoded("p="),
    ],
)
@pytest.mark.parametrize("path", ["/api/inbox/", "/api/videos/", "/api/conversations/"])
def test_every_invalid_cursor_gets_the_same_short_400(path, cursor):
    response = api_client(UserFactory.create()).get(path, {"cursor": cursor})
    assert (response.status_code, response.json()) == (400, INVALID_CURSOR)


def test_a_cursor_from_next_still_pages_the_videos():
    videos = VideoFactory.create_batch(3)
    client = api_client(UserFactory.create())
    assert [v["id"] for v in walk(client, "/api/videos/?limit=1")] == [v.pk for v in reversed(videos)]


def test_schema_documents_since_and_the_stream_position():
    schema = api_client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    inbox = schema["paths"]["/api/inbox/"]["get"]
    assert "since" in [p["name"] for p in inbox["parameters"]]
    page = inbox["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert schema["components"]["schemas"][page]["properties"]["stream_position"]["type"] == "integer"
    assert "?since=" in schema["info"]["description"]
