"""Writes refuse what a client could not have meant, with a 400 naming the field: bodies the parser can't take,
unknown and read-only fields, ids that aren't whole numbers, repeated query parameters, and shares naming
more people than one share may."""

import pytest

from video_platform.models import SHARE_MAX_PEOPLE, Event, Message, Share

from .clients import api_client
from .factories import UserFactory, VideoFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(db):
    return api_client(UserFactory.create(username="sam"))


@pytest.mark.parametrize("path", ["/api/videos/", "/api/users/", "/api/auth/token/"])
def test_json_nested_too_deep_for_the_parser_is_a_400(client, path):
    body = "[" * 2000 + "]" * 2000
    response = client.post(path, body, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "nested too deeply" in response.json()["detail"]


@pytest.mark.parametrize("video", [8.5, 8.0, True, "8"])
def test_a_video_id_that_is_not_a_whole_number_is_a_400_on_video(client, video):
    other = UserFactory.create(username="tia")
    VideoFactory.create(creator=other, pk=8)
    conversation = client.post("/api/conversations/", {"participants": ["tia"]}, format="json").json()
    response = client.post(f"/api/conversations/{conversation['id']}/messages/", {"video": video}, format="json")
    assert response.status_code == 400
    assert response.json() == {"video": ["An id (a whole number) is required."]}
    assert not Message.objects.exists()


def test_an_unknown_field_in_a_write_is_a_400_naming_it(client):
    response = client.post("/api/videos/", {"caption": "hi", "captoin": "typo"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"captoin": ["Unknown field."]}
    response = client.patch("/api/me/", {"dm_polcy": "nobody"}, format="json")
    assert response.json() == {"dm_polcy": ["Unknown field."]}


def test_a_read_only_field_in_a_write_is_a_400_naming_it(client):
    response = client.post("/api/videos/", {"caption": "hi", "event_id": 3}, format="json")
    assert response.status_code == 400
    assert response.json() == {"event_id": ["This field is read-only."]}


def test_what_a_write_answers_is_refused_as_input_but_its_writable_fields_are_taken(client):
    video = client.post("/api/videos/", {"caption": "hi"}, format="json").json()
    assert client.post("/api/videos/", video, format="json").status_code == 400
    assert client.post("/api/videos/", {"caption": video["caption"]}, format="json").status_code == 201


def test_a_repeated_query_parameter_is_a_400_naming_it(client):
    response = client.get("/api/inbox/?category=likes&category=shares")
    assert response.status_code == 400
    assert response.json() == {"category": ["Give this parameter once."]}
    assert client.get("/api/inbox/?category=likes").status_code == 200


@pytest.mark.parametrize(("field", "channel"), [("tagged", "tag"), ("recipients", "dm")])
def test_a_share_naming_more_than_the_cap_is_a_400_and_writes_nothing(client, field, channel):
    people = [UserFactory.create().username for _ in range(SHARE_MAX_PEOPLE + 1)]
    video = VideoFactory.create()
    response = client.post(f"/api/videos/{video.pk}/shares/", {"channel": channel, field: people}, format="json")
    assert response.status_code == 400
    assert response.json() == {field: [f"A share can name at most {SHARE_MAX_PEOPLE} people."]}
    assert not Share.objects.exists() and not Event.objects.exists()


@pytest.mark.parametrize(("field", "channel"), [("tagged", "tag"), ("recipients", "dm")])
def test_a_share_naming_exactly_the_cap_is_accepted(client, field, channel):
    people = [UserFactory.create().username for _ in range(SHARE_MAX_PEOPLE)]
    video = VideoFactory.create()
    response = client.post(f"/api/videos/{video.pk}/shares/", {"channel": channel, field: people}, format="json")
    assert response.status_code == 201, response.content
    assert len(response.json()[field]) == SHARE_MAX_PEOPLE


def test_the_share_service_refuses_more_than_the_cap_too():
    from django.core.exceptions import ValidationError

    from video_platform import services

    people = [UserFactory.create() for _ in range(SHARE_MAX_PEOPLE + 1)]
    with pytest.raises(ValidationError) as refused:
        services.video_share(sharer=UserFactory.create(), video=VideoFactory.create(), channel="tag", tagged=people)
    assert refused.value.message_dict == {"tagged": [f"A share can name at most {SHARE_MAX_PEOPLE} people."]}


def test_the_schema_states_the_share_cap(client):
    schemas = client.get("/api/schema/?format=json").json()["components"]["schemas"]
    tag = schemas["TagShareRequest"]["properties"]["tagged"]
    dm = schemas["DmShareRequest"]["properties"]["recipients"]
    assert tag["maxItems"] == dm["maxItems"] == SHARE_MAX_PEOPLE
