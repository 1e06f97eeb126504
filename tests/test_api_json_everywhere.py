"""Every answer under /api/ is JSON, whatever gives it: a missing trailing slash, a wrong method, a body too
large, a bad Host header, no route, an unhandled error — with DEBUG off (production) and on (make demo)."""

import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from inbox import selectors
from video_platform.models import Video

from .clients import api_client
from .factories import UserFactory, VideoFactory
from .urlconf import all_routes

pytestmark = [pytest.mark.django_db, pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])]

METHODS = ("get", "post", "put", "patch", "delete", "options", "head")
# Successful answers that are documents, not API data.
NOT_JSON_WHEN_SUCCESSFUL = {"/api/docs/", "/api/schema/"}


@pytest.fixture(autouse=True)
def debug_setting(settings, debug):
    settings.DEBUG = debug


def sent(client, method: str, path: str, **extra):
    return getattr(client, method)(path, **extra)


def assert_json_with_detail(response, *, status: int):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert isinstance(json.loads(response.content)["detail"], str)


@pytest.mark.parametrize("method", ["post", "patch", "put", "delete", "get"])
def test_a_missing_trailing_slash_is_a_json_308_naming_the_url(method):
    response = sent(api_client(UserFactory.create()), method, "/api/videos?limit=5", data={}, format="json")
    assert_json_with_detail(response, status=308)
    assert response["Location"] == "/api/videos/?limit=5"
    assert "/api/videos/" in response.json()["detail"]


def test_a_post_that_follows_the_308_keeps_its_body_and_is_carried_out():
    user = UserFactory.create()
    response = api_client(user).post("/api/videos", {"caption": "kept"}, format="json", follow=True)
    assert response.status_code == 201, response.content
    assert Video.objects.get(creator=user).caption == "kept"


def test_a_body_over_the_upload_limit_is_a_json_413():
    big = json.dumps({"caption": "x" * 3_000_000})
    response = api_client(UserFactory.create()).post("/api/videos/", big, content_type="application/json")
    assert_json_with_detail(response, status=413)


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options", "head"])
def test_any_method_but_get_on_the_stream_is_a_json_405(method):
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory.create())
    response = sent(client, method, "/api/inbox/stream/")
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert response["Allow"] == "GET"
    if method != "head":
        assert response.json() == {"detail": f'Method "{method.upper()}" not allowed.'}


def test_posting_to_the_api_docs_is_a_json_405():
    response = APIClient().post("/api/docs/")
    assert_json_with_detail(response, status=405)
    assert response.json() == {"detail": 'Method "POST" not allowed.'}


def test_a_host_not_allowed_is_a_json_400_under_the_api():
    response = APIClient().get("/api/videos/", HTTP_HOST="evil.example")
    assert response.json() == {"detail": "Invalid Host header."}
    assert_json_with_detail(response, status=400)


def test_an_unhandled_error_under_the_api_is_a_json_500(monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(selectors, "inbox_unread_counts", broken)
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(UserFactory.create())
    response = client.get("/api/inbox/unread-count/")
    assert response.json() == {"detail": "Server error."}
    assert_json_with_detail(response, status=500)


def test_every_api_route_answers_every_method_in_json(debug):
    """Crawls the URLconf (tests/urlconf.py): each /api/ route, with and without its trailing slash, every
    method, signed in and not. Successes are JSON (the docs page and the schema aside); everything else is
    JSON with a `detail`, but a 400, which may hold field errors instead."""
    user, other = UserFactory.create(), UserFactory.create()
    video = VideoFactory.create(creator=other)
    signed_in = APIClient(raise_request_exception=False)
    signed_in.force_authenticate(user)
    anonymous = APIClient(raise_request_exception=False)
    routes = [route for route in all_routes() if route.template.startswith("/api/")]
    assert len(routes) > 20
    checked = 0
    for route in routes:
        for path in route.paths([video.pk, 987654], [other.username, "nobody"], limit=4):
            for client in (anonymous, signed_in):
                for target in (path, path.rstrip("/")):
                    for method in METHODS:
                        if client is signed_in and path == "/api/inbox/stream/" and target == path and method == "get":
                            continue  # the endless stream itself (tests/test_stream.py)
                        response = sent(client, method, target, data={}, format="json")
                        checked += 1
                        where = f"{method.upper()} {target} ({'signed in' if client is signed_in else 'anonymous'})"
                        if response.status_code < 300 and (path in NOT_JSON_WHEN_SUCCESSFUL or method == "head"):
                            continue
                        assert response["Content-Type"].startswith("application/json"), (where, response.status_code)
                        if method == "head":
                            continue  # no body to read
                        body = json.loads(response.content) if response.content else None
                        if response.status_code >= 300 and response.status_code != 400:
                            assert isinstance(body, dict) and "detail" in body, (where, response.status_code, body)
    assert checked > 500
