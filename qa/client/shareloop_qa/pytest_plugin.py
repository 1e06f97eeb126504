"""pytest plugin (entry point ``pytest11``): fixtures for tests against a running Shareloop server.

``--shareloop-url`` (or ``SHARELOOP_URL``, default http://127.0.0.1:8000) names the server;
``SHARELOOP_STAFF_TOKEN`` lets ``release_held`` release shares outside ``DEMO_MODE``.
"""

import os
import secrets

import pytest

from .client import ShareloopClient, wait_for

PASSWORD = "qa-kit-password-7"


def pytest_addoption(parser):
    parser.addoption("--shareloop-url", default=None, help="base URL of the Shareloop server under test")


@pytest.fixture(scope="session")
def shareloop_url(request) -> str:
    return request.config.getoption("--shareloop-url", None) or os.environ.get("SHARELOOP_URL", "http://127.0.0.1:8000")


@pytest.fixture
def api(shareloop_url) -> ShareloopClient:
    """A client without credentials: sign up, log in, read the schema."""
    return ShareloopClient(shareloop_url)


@pytest.fixture
def user_factory(api):
    """``user_factory("cara", is_pro=True)``: a new account (``cara_<random>``) with those settings, logged in."""

    def make(name: str = "user", **settings) -> ShareloopClient:
        username = f"{name}_{secrets.token_hex(4)}"
        api.sign_up(username, PASSWORD, display_name=name.title())
        client = api.log_in(username, PASSWORD)
        if settings:
            client.update_me(**settings)
        return client

    return make


@pytest.fixture
def video_factory():
    """``video_factory(creator, "caption")``: a posted video, its ``post`` event already delivered."""

    def make(creator: ShareloopClient, caption: str = "a test video") -> dict:
        video = creator.post_video(caption)
        wait_for(creator, video)
        return video

    return make


@pytest.fixture
def release_held(shareloop_url, user_factory):
    """``release_held()``: release every held share now; answers how many. Staff token from
    SHARELOOP_STAFF_TOKEN, else a fresh user (enough in DEMO_MODE)."""
    token = os.environ.get("SHARELOOP_STAFF_TOKEN")
    releaser = ShareloopClient(shareloop_url, token) if token else None

    def release() -> int:
        nonlocal releaser
        releaser = releaser or user_factory("releaser")
        return releaser.release_held()

    return release
