import pytest

from .conftest import api_client
from .factories import UserFactory

pytestmark = pytest.mark.django_db


def test_opening_a_conversation_without_participants_is_a_field_error():
    response = api_client(UserFactory.create()).post("/api/conversations/", {}, format="json")
    assert response.status_code == 400
    assert "participants" in response.json()


def test_an_api_url_matching_no_route_answers_json_404(settings):
    settings.DEBUG = False
    response = api_client(UserFactory.create()).get("/api/videos/not-a-number/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}
