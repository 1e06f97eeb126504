"""Failed logins are limited per account as well as per address: once an account's failures reach the
limit, no address, no spelling of the name and no login form gets another try, the right password included."""

import pytest
from django.test import Client
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from video_platform.throttles import LoginFailuresThrottle

from .factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(monkeypatch):
    """alice, whose account takes 3 failed logins per hour (the per-address limit out of the way)."""
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "login_failures", "3/hour")
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "login", None)
    user = UserFactory.create(username="alice")
    LoginFailuresThrottle().cache.delete(LoginFailuresThrottle().username_key("alice"))
    return user


def api_login(username: str, password: str, address: str) -> int:
    return (
        APIClient(REMOTE_ADDR=address)
        .post("/api/auth/token/", {"username": username, "password": password})
        .status_code
    )


def test_failed_logins_from_many_addresses_lock_the_account_even_for_the_right_password(alice):
    wrong = [api_login("alice", "nope", f"198.51.100.{n}") for n in range(1, 4)]
    right = APIClient(REMOTE_ADDR="203.0.113.9").post("/api/auth/token/", {"username": "alice", "password": PASSWORD})
    assert wrong == [400, 400, 400]
    assert right.status_code == 429 and int(right["Retry-After"]) > 0


def test_another_spelling_of_the_name_counts_against_the_same_account(alice):
    wrong = [api_login(name, "nope", "198.51.100.7") for name in ("ALICE", "ａｌｉｃｅ", "Alice")]
    assert wrong == [400, 400, 400]
    assert api_login("alice", PASSWORD, "198.51.100.8") == 429


def test_a_successful_login_uses_up_no_failure(alice):
    assert [api_login("alice", PASSWORD, "198.51.100.9") for _ in range(5)] == [200] * 5
    assert [api_login("alice", "nope", "198.51.100.9") for _ in range(3)] == [400] * 3
    assert api_login("alice", PASSWORD, "198.51.100.9") == 429


def test_the_login_page_and_the_api_share_one_limit(alice):
    for _ in range(3):
        Client().post("/login/", {"username": "alice", "password": "nope"})
    page = Client()
    response = page.post("/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 200, "the form is shown again, not a redirect to the feed"
    assert "_auth_user_id" not in page.session
    assert api_login("alice", PASSWORD, "198.51.100.10") == 429


def test_a_login_typed_in_another_case_finds_the_account(alice):
    assert api_login("ALICE", PASSWORD, "198.51.100.11") == 200
