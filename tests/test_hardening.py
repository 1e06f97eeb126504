"""Hostile input and production settings: read-only and unknown fields refused, CSRF on session writes,
throttled writes and logins, validated passwords, staff-only admin, the deploy check, and share
notifications batched so their arrival time does not point at a sharer."""

import json
import os
import secrets
import subprocess
import sys
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from inbox import batching, fan_out
from inbox.batching import batch_window_start
from inbox.models import HeldShare, Notification
from video_platform import services
from video_platform.models import Comment, Event, Message, Share, Video

from .clients import api_client
from .factories import PASSWORD, UserFactory, VideoFactory

pytestmark = pytest.mark.django_db
ROOT = settings.BASE_DIR

STRONG_PASSWORD = "lantern-orbit-97-quince"


@pytest.fixture
def other(db):
    return UserFactory.create(username="mallory")


def test_read_only_and_unknown_profile_fields_are_refused_naming_each(make_user, other):
    user = make_user(username="alice")
    response = api_client(user).patch(
        "/api/me/",
        {
            "username": "root",
            "is_staff": True,
            "is_superuser": True,
            "user": other.pk,
            "id": other.pk,
            "display_name": "Alice",
        },
        format="json",
    )
    assert response.status_code == 400, response.content
    assert response.json() == {
        "username": ["This field is read-only."],
        "is_staff": ["Unknown field."],
        "is_superuser": ["Unknown field."],
        "user": ["Unknown field."],
        "id": ["Unknown field."],
    }
    user.refresh_from_db()
    assert (user.username, user.is_staff, user.is_superuser, user.profile.display_name) == (
        "alice",
        False,
        False,
        "Alice",
    )


def test_sign_up_cannot_grant_staff():
    response = APIClient().post(
        "/api/users/",
        {"username": "newbie", "password": STRONG_PASSWORD, "is_staff": True, "is_superuser": True},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert response.json() == {"is_staff": ["Unknown field."], "is_superuser": ["Unknown field."]}
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.filter(username="newbie").exists()


def test_video_creator_counts_and_ids_cannot_be_assigned(make_user, other):
    user = make_user(username="alice")
    response = api_client(user).post(
        "/api/videos/",
        {
            "caption": "mine",
            "creator": {"username": "mallory"},
            "creator_id": other.pk,
            "id": 987654,
            "counts": {"views": 5, "likes": 5, "comments": 5, "shares": 5},
            "share_count": 9,
            "view_count": 9,
            "created_at": "2001-01-01T00:00:00Z",
            "is_hidden": True,
        },
        format="json",
    )
    assert response.status_code == 400, response.content
    assert set(response.json()) == {
        "creator",
        "creator_id",
        "id",
        "counts",
        "share_count",
        "view_count",
        "created_at",
        "is_hidden",
    }
    assert not Video.objects.exists()


def test_share_sharer_video_and_count_cannot_be_assigned(make_user, other, video):
    user = make_user(username="alice")
    elsewhere = VideoFactory.create(creator=other)
    response = api_client(user).post(
        f"/api/videos/{video.pk}/shares/",
        {
            "channel": "link",
            "sharer": "mallory",
            "sharer_id": other.pk,
            "video": elsewhere.pk,
            "id": 5555,
            "share_count": 40,
        },
        format="json",
    )
    assert response.status_code == 400, response.content
    assert response.json() == {
        "sharer": ["Unknown field."],
        "sharer_id": ["Unknown field."],
        "video": ["This field is read-only."],
        "id": ["This field is read-only."],
        "share_count": ["This field is read-only."],
    }
    assert not Share.objects.exists()
    video.refresh_from_db()
    elsewhere.refresh_from_db()
    assert (video.share_count, elsewhere.share_count) == (0, 0)


def test_comment_author_and_message_sender_cannot_be_assigned(make_user, other, video):
    user = make_user(username="alice")
    client = api_client(user)
    response = client.post(f"/api/videos/{video.pk}/comments/", {"text": "hi", "author": "mallory"}, format="json")
    assert response.status_code == 400, response.content
    assert response.json() == {"author": ["This field is read-only."]}
    conversation = client.post("/api/conversations/", {"participants": ["mallory"]}, format="json").json()
    response = client.post(
        f"/api/conversations/{conversation['id']}/messages/",
        {"text": "hello", "sender": "mallory", "sender_id": other.pk, "conversation": 1},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert response.json() == {
        "sender": ["This field is read-only."],
        "sender_id": ["Unknown field."],
        "conversation": ["Unknown field."],
    }
    assert not Comment.objects.exists() and not Message.objects.exists()


def test_marking_read_cannot_reassign_a_notification(make_user, other, creator, video):
    share = services.video_share(sharer=other, video=video, channel="link")
    fan_out.event_deliver(event_id=share.event.pk)
    notification = Notification.objects.get(recipient=creator)
    response = api_client(creator).post(
        f"/api/inbox/{notification.pk}/read/", {"recipient": other.pk, "count": 99, "actor": other.pk}, format="json"
    )
    assert response.status_code == 200
    notification.refresh_from_db()
    assert (notification.recipient, notification.count, notification.actor, notification.unread) == (
        creator,
        1,
        None,
        False,
    )


def test_session_authenticated_writes_need_the_csrf_token(make_user):
    user = make_user(username="alice")
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    refused = client.post("/api/videos/", {"caption": "no token"}, format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    client.get("/admin/login/")  # any page rendering a form sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    accepted = client.post("/api/videos/", {"caption": "with token"}, format="json", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201, accepted.content


def test_token_authenticated_writes_need_no_csrf_token(make_user):
    from rest_framework.authtoken.models import Token

    user = make_user(username="alice")
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    assert client.post("/api/videos/", {"caption": "scripted"}, format="json").status_code == 201


def throttle_rate(monkeypatch, scope: str, rate: str, ident) -> None:
    """Set one throttle's rate for this test and forget what earlier runs counted for ``ident``."""
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, scope, rate)
    cache.delete(f"throttle_{scope}_{ident}")


def test_writes_over_the_rate_are_refused_with_429_and_retry_after(make_user, monkeypatch):
    user = make_user(username="alice")
    throttle_rate(monkeypatch, "writes", "3/minute", user.pk)
    client = api_client(user)
    statuses = [client.post("/api/videos/", {"caption": f"v{i}"}, format="json").status_code for i in range(3)]
    refused = client.post("/api/videos/", {"caption": "one too many"}, format="json")
    assert statuses == [201, 201, 201]
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert client.get("/api/videos/").status_code == 200, "reads are not throttled"
    assert Video.objects.count() == 3


def test_logins_over_the_rate_are_refused_even_with_a_forged_forwarded_for(make_user, monkeypatch):
    make_user(username="alice")
    address = f"198.51.100.{secrets.randbelow(250) + 1}"
    throttle_rate(monkeypatch, "login", "2/minute", address)
    client = APIClient(REMOTE_ADDR=address)
    wrong = [client.post("/api/auth/token/", {"username": "alice", "password": "nope"}).status_code for _ in range(2)]
    refused = client.post("/api/auth/token/", {"username": "alice", "password": PASSWORD})
    forged = client.post(
        "/api/auth/token/", {"username": "alice", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="192.0.2.77"
    )
    assert wrong == [400, 400]
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert forged.status_code == 429


def test_sign_ups_over_the_rate_are_refused(monkeypatch):
    address = f"203.0.113.{secrets.randbelow(250) + 1}"
    throttle_rate(monkeypatch, "signup", "1/hour", address)
    client = APIClient(REMOTE_ADDR=address)
    first = client.post("/api/users/", {"username": "first", "password": STRONG_PASSWORD}, format="json")
    second = client.post("/api/users/", {"username": "second", "password": STRONG_PASSWORD}, format="json")
    assert (first.status_code, second.status_code) == (201, 429)


@pytest.mark.parametrize(
    ("username", "password"),
    [("weakling", "123"), ("weakling", "password"), ("weakling", "12345678901"), ("weakling", "weakling1")],
)
def test_weak_passwords_are_refused_at_sign_up(username, password):
    response = APIClient().post("/api/users/", {"username": username, "password": password}, format="json")
    assert response.status_code == 400
    assert response.json()["password"]


def test_admin_pages_need_staff(make_user):
    client = APIClient()
    client.force_login(make_user(username="alice"))
    for path in ("/admin/", "/admin/platform/share/", "/admin/inbox/notification/", "/admin/auth/user/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), path
    staff = make_user(username="root", is_staff=True, is_superuser=True)
    client.force_login(staff)
    assert client.get("/admin/platform/share/").status_code == 200


def test_admin_login_refuses_a_non_staff_user(make_user):
    make_user(username="alice")
    client = Client()
    response = client.post("/admin/login/", {"username": "alice", "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 200
    assert "staff account" in response.content.decode()
    assert client.get("/admin/").status_code == 302


def production_env(**extra) -> dict:
    """A production environment: no DEBUG, no demo mode, none of the test suite's relaxations."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", ""),
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "shareloop.example.com",
        "SHARELOOP_VAR_DIR": str(ROOT / "var" / "test"),
    }
    return {key: value for key, value in (env | extra).items() if value is not None}


def manage(*args, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_deploy_check_passes_with_the_production_environment():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr


def test_deploy_check_fails_with_a_weak_secret_key():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(SECRET_KEY="short"))
    assert result.returncode != 0
    assert "security.W009" in result.stderr


def test_the_project_refuses_to_start_without_a_secret_key_outside_debug():
    result = manage("check", env=production_env(SECRET_KEY=None))
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_the_project_refuses_a_replay_window_an_open_stream_would_outlive():
    result = manage("check", env=production_env(INBOX_STREAM_REPLAY_SECONDS="20"))
    assert result.returncode != 0
    assert "INBOX_STREAM_REPLAY_SECONDS must be at least twice" in result.stderr


PRINT_SETTINGS = """
import django, json
django.setup()
from django.conf import settings as s
print(json.dumps({
    "ssl_redirect": s.SECURE_SSL_REDIRECT, "session_secure": s.SESSION_COOKIE_SECURE,
    "csrf_secure": s.CSRF_COOKIE_SECURE, "hsts": s.SECURE_HSTS_SECONDS, "debug": s.DEBUG,
    "batch": s.SHARE_NOTIFICATION_BATCH_SECONDS, "rates": s.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
    "proxy_header": s.SECURE_PROXY_SSL_HEADER,
}))
"""


def settings_under(env: dict) -> dict:
    env = env | {"DJANGO_SETTINGS_MODULE": "video_platform.settings"}
    result = subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_defaults_are_secure_and_batch_share_notifications():
    values = settings_under(production_env())
    assert values["ssl_redirect"] and values["session_secure"] and values["csrf_secure"]
    assert values["hsts"] >= 31_536_000 and not values["debug"]
    assert values["batch"] > 0
    assert all(values["rates"].values()), values["rates"]
    assert values["proxy_header"] is None
    behind_proxy = settings_under(production_env(TRUST_X_FORWARDED_PROTO="1"))
    assert behind_proxy["proxy_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_demo_mode_serves_plain_http_and_delivers_shares_at_once():
    values = settings_under(production_env(DEMO_MODE="1", DEBUG="1"))
    assert not values["ssl_redirect"] and not values["session_secure"]
    assert values["batch"] == 0


WINDOW = 600


def hold_at_mid_window() -> datetime:
    """Pin every held share to the middle of the current window, so the test never straddles a boundary."""
    middle = batch_window_start(timezone.now(), WINDOW) + timedelta(seconds=WINDOW / 2)
    HeldShare.objects.update(held_at=middle)
    return middle


@override_settings(SHARE_NOTIFICATION_BATCH_SECONDS=WINDOW)
def test_link_shares_are_held_then_released_together_once_their_window_closes(creator, video):
    sharers = [UserFactory.create(username=f"sharer{i}") for i in range(3)]
    events = [services.video_share(sharer=s, video=video, channel="link").event for s in sharers]
    for event in events:
        fan_out.event_deliver(event_id=event.pk)

    assert set(Event.objects.values_list("status", "notification_count")) == {("held", 1)}
    assert not Notification.objects.filter(recipient=creator).exists()
    middle = hold_at_mid_window()
    window_end = batch_window_start(middle, WINDOW) + timedelta(seconds=WINDOW)
    just_before_the_end = window_end - timedelta(microseconds=1)
    next_window_end = window_end + timedelta(seconds=WINDOW)
    assert batching.held_shares_release(now=just_before_the_end) == 0
    assert not Notification.objects.filter(recipient=creator).exists()

    assert batching.held_shares_release(now=window_end) == 3
    assert batching.held_shares_release(now=next_window_end) == 0
    assert set(Event.objects.values_list("status", "done_at")) == {("done", window_end)}
    inbox = api_client(creator).get("/api/inbox/").json()["results"]
    assert [(n["type"], n["count"], n["actor"]) for n in inbox] == [("share", 3, None)]
    assert not HeldShare.objects.exists()


@override_settings(SHARE_NOTIFICATION_BATCH_SECONDS=WINDOW)
def test_batching_holds_only_the_anonymous_part_of_a_tag_share(creator, video):
    sharer, tagged = UserFactory.create(username="sam"), UserFactory.create(username="tia")
    share = services.video_share(sharer=sharer, video=video, channel="tag", tagged=[tagged])
    fan_out.event_deliver(event_id=share.event.pk)

    tag = Notification.objects.get(recipient=tagged)
    assert (tag.type, tag.actor) == ("tag", sharer)
    assert not Notification.objects.filter(recipient=creator).exists()
    assert list(HeldShare.objects.values_list("recipient", "type")) == [(creator.pk, "share")]
    hold_at_mid_window()
    batching.held_shares_release(now=timezone.now() + timedelta(seconds=2 * WINDOW))
    assert list(Notification.objects.filter(recipient=creator).values_list("type", "count", "actor")) == [
        ("share", 1, None)
    ]


@override_settings(SHARE_NOTIFICATION_BATCH_SECONDS=0)
def test_without_a_window_shares_are_delivered_at_once(creator, video):
    share = services.video_share(sharer=UserFactory.create(), video=video, channel="link")
    fan_out.event_deliver(event_id=share.event.pk)
    assert Notification.objects.get(recipient=creator).count == 1
    assert not HeldShare.objects.exists()
