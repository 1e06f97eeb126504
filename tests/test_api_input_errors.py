import pytest

from .clients import api_client
from .factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("debug", [False, True])
def test_an_api_url_matching_no_route_answers_json_404(settings, debug):
    settings.DEBUG = debug
    response = api_client(UserFactory.create()).get("/api/videos/not-a-number/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_pages_outside_the_api_keep_their_html_404(settings):
    settings.DEBUG = False
    response = api_client().get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_nul_character_in_a_username_finds_nobody_instead_of_failing():
    client = api_client(UserFactory.create())
    assert client.get("/api/users/a%00b/").status_code == 404
    assert client.post("/api/users/a%00b/follow/").status_code == 404
    assert client.get("/api/videos/?creator=a%00b").status_code == 400
    response = client.post("/api/conversations/", {"participants": ["a\x00b"]}, format="json")
    assert response.status_code == 400
    assert "participants" in response.json()


@pytest.mark.parametrize("limit", ["0", "101", "abc", "-1"])
def test_a_limit_out_of_range_is_a_field_error_not_ignored(limit):
    response = api_client(UserFactory.create()).get(f"/api/inbox/?limit={limit}")
    assert response.status_code == 400
    assert response.json() == {"limit": ["A whole number from 1 to 100."]}


@pytest.mark.parametrize("unread", ["maybe", "null"])
def test_an_unknown_unread_filter_is_a_field_error(unread):
    assert api_client(UserFactory.create()).get(f"/api/inbox/?unread={unread}").status_code == 400


def test_numbers_are_not_taken_for_text_or_booleans():
    client = api_client(UserFactory.create())
    assert client.post("/api/videos/", {"caption": 0}, format="json").status_code == 400
    assert client.post("/api/videos/", {"caption": "   "}, format="json").status_code == 400
    assert client.patch("/api/me/", {"is_pro": 0}, format="json").status_code == 400
    assert client.patch("/api/me/", {"is_pro": True}, format="json").json()["is_pro"] is True


def test_an_unknown_video_is_a_404_even_with_an_invalid_body():
    client = api_client(UserFactory.create())
    assert client.post("/api/videos/999999/shares/", {"channel": "nope"}, format="json").status_code == 404
    assert client.post("/api/videos/999999/comments/", {}, format="json").status_code == 404
    assert client.post("/api/conversations/999999/messages/", {}, format="json").status_code == 404


def test_signing_up_with_a_long_username_and_no_display_name_works():
    username = "u" * 150
    response = api_client().post("/api/users/", {"username": username, "password": "a-fine-password"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["display_name"] == username[:50]
