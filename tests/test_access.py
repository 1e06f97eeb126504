"""Object access matrix: for every id-bearing route of the URLconf and every method it implements,
another user asking with the owner's private ids gets 404 — never 403, never data — and list
endpoints ignore filters and query parameters that name someone else's objects."""

import json
import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from inbox.models import Notification
from video_platform import services
from video_platform.models import Conversation, Event, Message

from .factories import UserFactory, VideoFactory
from .urlconf import all_routes, restart_ids

pytestmark = pytest.mark.django_db

PRIVATE_TEXT = "owner-private-dm-7Q2X"
# Bodies a write might carry: a plausible valid one (so validation is not what stops the intruder)
# and an empty one (so a validation error does not come first and confirm the object exists).
BODIES = (
    {"text": "probe", "caption": "probe", "channel": "link", "participants": ["intruder"], "display_name": "x"},
    {},
)


def signed_in(user) -> APIClient:
    """A session login, so the HTML pages as well as the API see the user (force_authenticate is API-only)."""
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def world(deliver):
    """An owner with private notifications, a conversation, messages and events, each id type in its own
    range so that an id of one kind can never be mistaken for an object of another."""
    restart_ids(Notification, 61_000_000)
    restart_ids(Conversation, 62_000_000)
    restart_ids(Message, 63_000_000)
    restart_ids(Event, 64_000_000)
    owner, friend = UserFactory.create(username="owner"), UserFactory.create(username="friend")
    intruder = UserFactory.create(username="intruder")
    owned, friends_video = VideoFactory.create(creator=owner), VideoFactory.create(creator=friend)
    actions = [
        services.follow_create(follower=friend, followee=owner),
        services.like_create(user=friend, video=owned),
        services.video_share(sharer=friend, video=owned, channel="link"),
        services.comment_create(author=friend, video=owned, text="nice"),
        services.video_share(sharer=owner, video=friends_video, channel="link"),
        services.like_create(user=owner, video=friends_video),
    ]
    conversation, _ = services.conversation_get_or_create(creator=owner, participants=[friend])
    actions.append(services.message_send(sender=owner, conversation=conversation, text=PRIVATE_TEXT))
    actions.append(services.message_send(sender=friend, conversation=conversation, text=PRIVATE_TEXT + " reply"))
    for action in actions:
        deliver(action.event)
    private = {
        "notification": list(Notification.objects.filter(recipient=owner).values_list("pk", flat=True)),
        "conversation": [conversation.pk],
        "message": list(Message.objects.filter(conversation=conversation).values_list("pk", flat=True)),
        "event": list(Event.objects.filter(actor=owner).values_list("pk", flat=True)),
    }
    assert all(private.values()), private
    return owner, intruder, private


def id_routes():
    return [route for route in all_routes() if route.params]


def test_the_urlconf_walk_finds_the_id_bearing_api_routes():
    templates = {route.template for route in id_routes()}
    assert {
        "/api/inbox/%(pk)s/",
        "/api/inbox/%(pk)s/read/",
        "/api/events/%(pk)s/",
        "/api/conversations/%(pk)s/messages/",
    } <= templates


def test_another_users_private_ids_answer_404_on_every_route_and_method(world):
    owner, intruder, private = world
    intruder_client, owner_client = signed_in(intruder), signed_in(owner)
    owner_reached, checked = set(), 0
    for kind, ids in private.items():
        for object_id in ids:
            for route in id_routes():
                paths = list(route.paths([object_id], [str(object_id)]))
                if route.is_admin:
                    for path in paths[:1]:
                        response = intruder_client.get(path)
                        assert response.status_code == 302 and "/admin/login/" in response["Location"], path
                    continue
                for path in paths:
                    # API only: the owner opening a notification's page would mark it read.
                    owner_may_look = path.startswith("/api/") and "get" in route.methods
                    if owner_may_look and owner_client.get(path).status_code == 200:
                        owner_reached.add(kind)
                    for method in route.methods:
                        for body in BODIES if method != "get" else (None,):
                            response = getattr(intruder_client, method)(path, body, format="json")
                            checked += 1
                            if response.status_code == 405:
                                # A method the route never takes says nothing about the id: the owner gets 405 too.
                                owner_response = getattr(owner_client, method)(path, body, format="json")
                                assert owner_response.status_code == 405, (method.upper(), path)
                                continue
                            assert response.status_code == 404, (method.upper(), path, body, response.content)
                            if path.startswith("/api/"):
                                assert set(response.json()) == {"detail"}, (method.upper(), path, response.content)
    # The ids were real: the owner reaches each kind through some route (messages only inside a list).
    assert owner_reached >= {"notification", "conversation", "event"}, owner_reached
    assert checked > 50
    assert Notification.objects.filter(recipient=owner, unread=True).count() == len(private["notification"])
    assert Message.objects.filter(pk__in=private["message"]).count() == len(private["message"])


def private_markers(private: dict) -> list[re.Pattern]:
    ids = [i for ids in private.values() for i in ids]
    return [re.compile(rf"(?<!\d){i}(?!\d)") for i in ids] + [re.compile(re.escape(PRIVATE_TEXT))]


def query_strings(owner, private: dict) -> list[str]:
    first = {kind: ids[0] for kind, ids in private.items()}
    owner_keys = ("user", "user_id", "recipient", "recipient_id", "owner", "actor", "creator_id")
    by_owner = dict.fromkeys(owner_keys, owner.pk)
    by_name = dict.fromkeys(("username", "creator", "participant", "participants", "sender"), owner.username)
    by_object = {
        "id": first["notification"],
        "pk": first["notification"],
        "notification": first["notification"],
        "conversation": first["conversation"],
        "conversation_id": first["conversation"],
        "event": first["event"],
        "event_id": first["event"],
        "message": first["message"],
    }
    combined = by_owner | by_name | by_object
    return ["&".join(f"{k}={v}" for k, v in combined.items())] + [f"{k}={v}" for k, v in combined.items()]


def test_list_filters_and_query_parameters_never_reach_another_users_objects(world):
    owner, intruder, private = world
    intruder_client = signed_in(intruder)
    markers = private_markers(private)
    # The live stream never ends (and closes its connection per read): the privacy crawler reads it.
    stream = reverse("api-inbox-stream")
    lists = [r for r in all_routes() if not r.params and not r.is_admin and "get" in r.methods and r.template != stream]
    assert "/api/inbox/" in {r.template for r in lists}
    for route in lists:
        for query in query_strings(owner, private):
            response = intruder_client.get(f"{route.template}?{query}")
            body = response.content.decode(errors="replace") + json.dumps(dict(response.headers))
            leaked = [m.pattern for m in markers if m.search(body)]
            assert not leaked, (route.template, query, leaked)
    for query in query_strings(owner, private):
        assert intruder_client.post(f"/api/inbox/read-all/?{query}").status_code == 200
    assert Notification.objects.filter(recipient=owner, unread=True).count() == len(private["notification"])


def test_without_credentials_private_routes_answer_401_not_data(world):
    _, _, private = world
    client = APIClient()
    for path in (
        f"/api/inbox/{private['notification'][0]}/",
        f"/api/events/{private['event'][0]}/",
        f"/api/conversations/{private['conversation'][0]}/messages/",
    ):
        response = client.get(path)
        assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Token")
        assert set(response.json()) == {"detail"}
