"""The web server as shipped (`manage.py serve`: make demo, the Dockerfile, docker-compose) under production
settings: a forged X-Forwarded-For buys no fresh logins, and no database connection outlives its request."""

import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from rest_framework.authtoken.models import Token

from video_platform.management.commands.serve import proxy_options

from .factories import PASSWORD, UserFactory
from .waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

APPLICATION_NAME = "shareloop-serve-test"  # libpq's PGAPPNAME: tells this server's connections apart


@pytest.fixture(scope="module")
def production_server(asgi_process, django_db_blocker):
    with asgi_process(
        "test-serve.log",
        DEBUG="0",
        DEMO_MODE="0",
        HTTPS_ONLY="0",
        THROTTLE_RATE_LOGIN="2/minute",
        PGAPPNAME=APPLICATION_NAME,
    ) as url:
        yield url


def post_json(url: str, body: dict, headers: dict | None = None) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_forged_x_forwarded_for_gets_no_fresh_login_attempts(production_server):
    UserFactory.create(username="alice")
    cache.delete("throttle_login_127.0.0.1")
    login = f"{production_server}/api/auth/token/"
    wrong = [post_json(login, {"username": "alice", "password": "nope"}) for _ in range(2)]
    forged = [
        post_json(login, {"username": "alice", "password": PASSWORD}, {"X-Forwarded-For": f"192.0.2.{n}"})
        for n in range(1, 4)
    ]
    assert wrong == [400, 400]
    assert forged == [429, 429, 429]


def server_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [APPLICATION_NAME])
        return cursor.fetchone()[0]


def test_no_database_connection_outlives_its_request(production_server):
    if connection.vendor != "postgresql":
        pytest.skip("counts PostgreSQL connections")
    tokens = [Token.objects.create(user=UserFactory.create()).key for _ in range(8)]

    def read_profile(token: str) -> int:
        request = urllib.request.Request(f"{production_server}/api/me/", headers={"Authorization": f"Token {token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status

    with ThreadPoolExecutor(len(tokens)) as pool:
        assert set(pool.map(read_profile, tokens * 3)) == {200}
    # Before: a connection kept per request thread for CONN_MAX_AGE (60 s); now each closes with its request.
    assert wait_until(lambda: server_connections() == 0, timeout=10, what="the server to close its connections")


@override_settings(FORWARDED_ALLOW_IPS="")
def test_forwarded_headers_are_ignored_unless_proxies_are_configured():
    assert proxy_options() == {"proxy_headers": False}


@override_settings(FORWARDED_ALLOW_IPS="10.0.0.2")
def test_forwarded_headers_are_believed_from_the_configured_proxies_only():
    assert proxy_options() == {"proxy_headers": True, "forwarded_allow_ips": "10.0.0.2"}
