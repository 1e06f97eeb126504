"""Every read of a notification goes through one renderer (inbox.rendering): the API answers what its schema
documents, the pages and admin render the same rows, privacy included, and a page's queries do not grow with
its notifications."""

from datetime import datetime

import jsonschema
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from inbox import rendering, selectors
from inbox.models import Notification
from video_platform import services

from .clients import api_client
from .factories import UserFactory, VideoFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mixed_inbox(deliver):
    creator, sharer, tagger, friend = (UserFactory.create() for _ in range(4))
    video = VideoFactory.create(creator=creator)
    deliver(services.video_share(sharer=sharer, video=video, channel="link").event)
    deliver(services.video_share(sharer=tagger, video=video, channel="tag", tagged=[creator, friend]).event)
    deliver(services.video_share(sharer=sharer, video=video, channel="dm", recipients=[creator], message="see").event)
    deliver(services.comment_create(author=friend, video=video, text="so good").event)
    deliver(services.follow_create(follower=friend, followee=creator).event)
    deliver(services.like_create(user=friend, video=video).event)
    return creator, sharer, tagger, friend


def _strict_json_schema(node):
    """An OpenAPI 3.0 schema as a JSON Schema: ``nullable`` becomes a null type, and an object has every
    documented property and no other (docs/api.md: "the `actor` key is always present")."""
    if isinstance(node, list):
        return [_strict_json_schema(each) for each in node]
    if not isinstance(node, dict):
        return node
    node = {key: _strict_json_schema(value) for key, value in node.items()}
    if "properties" in node:
        node |= {"required": list(node["properties"]), "additionalProperties": False}
    if node.pop("nullable", False):
        return {"anyOf": [{"type": "null"}, node]}
    return node


def documented_notification() -> jsonschema.Draft202012Validator:
    schema = api_client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    components = {"schemas": {name: _strict_json_schema(s) for name, s in schema["components"]["schemas"].items()}}
    return jsonschema.Draft202012Validator({"$ref": "#/components/schemas/Notification", "components": components})


def test_every_notification_the_inbox_answers_is_what_the_schema_documents(mixed_inbox):
    creator = mixed_inbox[0]
    page = api_client(creator).get("/api/inbox/").json()["results"]
    stored = dict(Notification.objects.filter(recipient=creator).values_list("pk", "updated_at"))
    documented = documented_notification()
    assert len(page) == len(stored) == 6
    for item in page:
        documented.validate(item)
        assert item["updated_at"].endswith("Z") and datetime.fromisoformat(item["updated_at"]) == stored[item["id"]]


def test_link_share_in_the_inbox_page_never_names_the_sharer(mixed_inbox):
    creator, sharer, tagger, _ = mixed_inbox
    page = api_client(creator).get("/api/inbox/").json()["results"]
    share = next(n for n in page if n["type"] == "share")
    assert share["actor"] is None
    assert share["count"] == 1
    assert sharer.username not in str(share) and tagger.username not in str(share)
    assert share["text"] == "Your video was shared once"


def test_every_other_notification_shows_who_did_it(mixed_inbox):
    creator, sharer, tagger, friend = mixed_inbox
    page = api_client(creator).get("/api/inbox/").json()["results"]
    shown = {n["type"]: n["actor"]["username"] for n in page if n["actor"]}
    assert shown == {
        "tag": tagger.username,
        "message": sharer.username,
        "comment": friend.username,
        "follow": friend.username,
        "like": friend.username,
    }
    assert all(n["text"].startswith(f"@{shown[n['type']]} ") for n in page if n["type"] != "share")


def test_detail_and_mark_read_answer_what_the_page_shows(mixed_inbox):
    creator, sharer, tagger, _ = mixed_inbox
    client = api_client(creator)
    page = client.get("/api/inbox/").json()["results"]
    for item in page:
        assert client.get(f"/api/inbox/{item['id']}/").json() == item
        assert client.post(f"/api/inbox/{item['id']}/read/").json() | {"unread": True} == item
    share = client.get(f"/api/inbox/{next(item['id'] for item in page if item['type'] == 'share')}/").json()
    assert share["actor"] is None
    assert sharer.username not in str(share) and tagger.username not in str(share)
    tag = client.get(f"/api/inbox/{next(item['id'] for item in page if item['type'] == 'tag')}/").json()
    assert tag["actor"]["username"] == tagger.username


def test_the_inbox_page_shows_what_the_api_answers(mixed_inbox):
    creator = mixed_inbox[0]
    answered = api_client(creator).get("/api/inbox/").json()["results"]
    browser = Client()
    browser.force_login(creator)
    shown = browser.get("/inbox/").context["items"]
    fields = ("id", "type", "text", "actor", "video", "conversation", "count", "unread")
    assert [{name: getattr(item, name) for name in fields} for item in shown] == [
        {name: item[name] for name in fields} for item in answered
    ]
    assert [item.updated_at for item in shown] == [datetime.fromisoformat(item["updated_at"]) for item in answered]


def test_a_model_instance_renders_from_the_same_row_as_the_inbox_query(mixed_inbox):
    """Admin renders model instances, the inbox its query's rows: equal rows render equally."""
    creator = mixed_inbox[0]
    queried = {row["id"]: row for row in selectors.inbox_notification_rows(user=creator)}
    instances = Notification.objects.filter(recipient=creator).select_related("actor__profile", "video")
    assert {n.pk: rendering.notification_row(n) for n in instances} == queried


def _queries(read) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert read().status_code == 200
    return len(captured)


def test_an_inbox_page_costs_the_same_queries_however_many_notifications_it_shows(mixed_inbox, deliver):
    creator = mixed_inbox[0]
    browser = Client()
    browser.force_login(creator)
    reads = {"api": lambda: api_client(creator).get("/api/inbox/"), "page": lambda: browser.get("/inbox/")}
    reads["api"]()  # the first read starts watching the inbox (inbox/stream_log.py), once per replay window
    before = {name: _queries(read) for name, read in reads.items()}
    for fan in UserFactory.create_batch(10):
        services.follow_create(follower=fan, followee=creator)
        services.comment_create(author=fan, video=VideoFactory.create(creator=creator), text="hi")
    deliver()
    assert Notification.objects.filter(recipient=creator).count() == 26
    assert {name: _queries(read) for name, read in reads.items()} == before
