"""The privacy rule against everything a creator can reach.

A sharer with unique markers (username, display name, user id, share ids, event ids) shares the
creator's videos by link, by a tag repost naming someone else, and by DM to someone else. Then a crawler
logged in as the creator fetches every route of the URLconf — API endpoints, pages, the live stream,
error pages — substituting every id and username it has discovered in earlier responses, follows
links found in them, and asserts no marker appears in any body or header. A route added anywhere in
the URLconf is crawled without editing this test.

Numeric markers are matched as whole numbers anywhere in a response. That cannot raise false alarms
because every marker id is drawn from a range of its own (7x,xxx,xxx) that no other object uses and
the crawler never substitutes itself; ids, timestamps and tokens of ordinary objects never reach it.

Positive controls: the same crawler, as the tagged user and as the DM recipient, must find the sharer.
"""

import json
import re
import time
import urllib.request
from collections import deque
from urllib.parse import urldefrag, urlsplit

import pytest
from django.apps import apps
from django.test import Client

from inbox import stream_log
from inbox.models import InboxStream
from video_platform import services
from video_platform.models import Conversation, Event, Message, Share

from .clients import api_client
from .factories import UserFactory, VideoFactory
from .urlconf import all_routes, restart_ids
from .waiting import wait_for_event

pytestmark = pytest.mark.django_db(transaction=True)

SHARER_ID = 71_777_001
SHARER_USERNAME = "zq9sharerxk"
SHARER_DISPLAY_NAME = "Qv7 Marker Sharer"
MISSING_ID = 999_999_999
LINK = re.compile(r"""(?:href|src|action|hx-get|sse-connect|data-url|data-href)\s*=\s*["']([^"'#]+)""")
REQUEST_BUDGET = 6000


def marker_patterns(numbers) -> list[re.Pattern]:
    textual = [
        re.compile(re.escape(SHARER_USERNAME), re.IGNORECASE),
        re.compile(re.escape(SHARER_DISPLAY_NAME), re.IGNORECASE),
    ]
    return textual + [re.compile(rf"(?<!\d){n}(?!\d)") for n in sorted(set(numbers))]


def discovered_values(payload, ints: set, strings: set) -> None:
    """Ids and usernames a response shows, to be substituted into routes in the next pass."""
    if isinstance(payload, dict):
        for key, value in payload.items():
            if isinstance(value, int) and not isinstance(value, bool) and (key == "id" or key.endswith("_id")):
                ints.add(value)
            elif key in ("video", "conversation", "event", "notification") and isinstance(value, int):
                ints.add(value)
            elif key == "username" and isinstance(value, str):
                strings.add(value)
            else:
                discovered_values(value, ints, strings)
    elif isinstance(payload, list):
        for item in payload:
            discovered_values(item, ints, strings)


class Crawler:
    def __init__(self, user, request):
        self.user, self.pytest_request = user, request
        self.client = Client(HTTP_LAST_EVENT_ID="0", raise_request_exception=False)
        self.client.force_login(user)
        self.ints = {MISSING_ID, user.pk}
        self.strings = {user.username, "no-such-user"}
        self.strings |= {config.label for config in apps.get_app_configs()}
        self.strings |= {model._meta.model_name for model in apps.get_models()}
        self.seen: set[tuple[str, str, bool]] = set()
        self.pages: dict[str, str] = {}  # "METHOD path -> status" -> everything the response said
        self.html: set[str] = set()
        self.links: deque[str] = deque()
        self.queries_per_path: dict[str, int] = {}

    def crawl(self) -> dict[str, str]:
        routes = all_routes()
        while True:
            before = len(self.seen)
            for route in routes:
                # Admin pages only redirect a non-staff user to the login page: a few samples suffice.
                limit = 3 if route.is_admin else 60
                for path in route.paths(sorted(self.ints), sorted(self.strings), limit=limit):
                    self.fetch(path)
                    if not route.params:
                        self.fetch(path + "?category=shares&unread=1")
            while self.links:
                self.fetch(self.links.popleft())
            if len(self.seen) == before or len(self.seen) > REQUEST_BUDGET:
                return self.pages

    def fetch(self, path: str) -> None:
        for method, htmx in (("GET", False), ("GET", True), ("OPTIONS", False)):
            key = (method, path, htmx)
            if key in self.seen or (htmx and path not in self.html):
                continue
            self.seen.add(key)
            headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
            response = self.client.generic(method, path, **headers)
            if self.client.session.get("_auth_user_id") != str(self.user.pk):
                self.client.force_login(self.user)  # a demo user switcher changed who we are: not a leak
                continue
            if response.streaming:
                response.close()
                body = self.read_stream(path)
            else:
                body = response.content.decode(errors="replace")
            header_text = json.dumps(dict(response.headers)) + str(response.cookies)
            self.pages[f"{method} {path}{' (htmx)' if htmx else ''} -> {response.status_code}"] = body + header_text
            if "html" in response.get("Content-Type", ""):
                self.html.add(path)
            self.learn(response, body)

    def learn(self, response, body: str) -> None:
        if "json" in response.get("Content-Type", ""):
            try:
                payload = json.loads(body)
            except ValueError:
                payload = None
            discovered_values(payload, self.ints, self.strings)
            for text in re.findall(r'"(?:next|previous|url)":\s*"([^"]+)"', body):
                self.enqueue(text)
        for link in LINK.findall(body):
            self.enqueue(link)
        if response.get("Location"):
            self.enqueue(response["Location"])

    def enqueue(self, link: str) -> None:
        link = urldefrag(link.replace("&amp;", "&"))[0]
        parts = urlsplit(link)
        if parts.netloc not in ("", "testserver") or not parts.path.startswith("/") or "logout" in parts.path:
            return
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if ("GET", path, False) in self.seen:
            return
        if parts.query:
            # A few query variants of a page are enough (login?next=... alone would be endless).
            self.queries_per_path[parts.path] = self.queries_per_path.get(parts.path, 0) + 1
            if self.queries_per_path[parts.path] > 5:
                return
        self.links.append(path)

    def read_stream(self, path: str, seconds: float = 3.0) -> str:
        """A live stream never ends: read what uvicorn sends within a few seconds, replay included.

        Under a WSGI server Django would first consume the whole (endless) async stream, so it is read
        from the ASGI server ``make demo`` runs.
        """
        server = self.pytest_request.getfixturevalue("asgi_server")
        session = self.client.cookies["sessionid"].value
        # Replay all the log holds: everything since the user's inbox has been watched.
        watched_from = InboxStream.objects.filter(user=self.user).values_list("present_from_seq", flat=True).first()
        request = urllib.request.Request(
            server + path, headers={"Cookie": f"sessionid={session}", "Last-Event-ID": str(watched_from or 0)}
        )
        received, deadline = [], time.monotonic() + seconds
        try:
            with urllib.request.urlopen(request, timeout=seconds) as stream:
                while time.monotonic() < deadline and (chunk := stream.read1(4096)):
                    received.append(chunk)
        except TimeoutError:
            pass  # nothing more within the time: what came is what a client saw
        return b"".join(received).decode(errors="replace")


def leaks(pages: dict[str, str], patterns: list[re.Pattern]) -> dict[str, list[str]]:
    found = {}
    for page, text in pages.items():
        hits = [p.pattern for p in patterns if p.search(text)]
        if hits:
            found[page] = hits
    return found


@pytest.fixture
def shared_world(celery_worker):
    """The creator's videos shared by a marked sharer over every channel, and ordinary activity around."""
    creator = UserFactory.create(username="crawl_creator")
    friend = UserFactory.create(username="crawl_friend")
    tagged, recipient = UserFactory.create(username="crawl_tagged"), UserFactory.create(username="crawl_recipient")
    sharer = UserFactory.create(id=SHARER_ID, username=SHARER_USERNAME, display_name=SHARER_DISPLAY_NAME)
    videos = [VideoFactory.create(creator=creator, caption=f"crawl video {i}") for i in range(2)]
    for user in (creator, friend, tagged, recipient):  # their stream logs, which the crawl replays, begin here
        stream_log.stream_watched(user_id=user.pk)

    restart_ids(Share, 72_000_001)
    restart_ids(Event, 73_000_001)
    restart_ids(Conversation, 74_000_001)
    restart_ids(Message, 75_000_001)
    sharer_actions = [
        services.video_share(sharer=sharer, video=videos[0], channel="link"),
        services.video_share(sharer=sharer, video=videos[0], channel="link"),
        services.video_share(sharer=sharer, video=videos[1], channel="link"),
        services.video_share(sharer=sharer, video=videos[0], channel="tag", tagged=[tagged]),
        services.video_share(sharer=sharer, video=videos[1], channel="dm", recipients=[recipient], message="look"),
    ]
    # Everything else lives in other ranges, so nothing the creator may see shares a marker's digits.
    restart_ids(Share, 10_001)
    restart_ids(Event, 20_001)
    restart_ids(Conversation, 30_001)
    restart_ids(Message, 40_001)
    other_actions = [
        services.like_create(user=friend, video=videos[0]),
        services.comment_create(author=friend, video=videos[1], text="great one"),
        services.follow_create(follower=friend, followee=creator),
        services.video_share(sharer=friend, video=videos[0], channel="tag", tagged=[creator]),
        services.video_create(creator=creator, caption="a new one"),
    ]
    conversation, _ = services.conversation_get_or_create(creator=creator, participants=[friend])
    other_actions.append(services.message_send(sender=friend, conversation=conversation, text="hey"))
    for action in sharer_actions + other_actions:
        assert wait_for_event(api_client(action.event.actor), action.event.pk)["status"] == "done"

    numbers = [SHARER_ID, *(a.pk for a in sharer_actions), *(a.event.pk for a in sharer_actions)]
    numbers += Conversation.objects.filter(participants=sharer).values_list("pk", flat=True)
    numbers += Message.objects.filter(sender=sharer).values_list("pk", flat=True)
    return creator, tagged, recipient, marker_patterns(numbers), friend


def test_the_creator_finds_no_trace_of_the_sharer_anywhere(shared_world, request):
    creator, _, _, patterns, _ = shared_world
    pages = Crawler(creator, request).crawl()

    assert not leaks(pages, patterns)
    assert not [page for page in pages if page.endswith(("-> 500", "-> 502", "-> 503"))]
    # The crawl really covered the ground: the shares arrived, and pages, the API and error pages were seen.
    inbox = json.loads(api_client(creator).get("/api/inbox/?category=shares").content)["results"]
    assert sorted(n["count"] for n in inbox) == [2, 3] and {n["actor"] for n in inbox} == {None}
    statuses = {page.rsplit(" -> ", 1)[1] for page in pages if " -> " in page}
    assert {"200", "404"} <= statuses, statuses
    crawled = " ".join(pages)
    for route in ("/api/inbox/", "/api/videos/", "/api/me/", "/api/events/", "/api/conversations/"):
        assert route in crawled, route
    # The live stream was read, its replay of the share notifications included.
    streams = [body for page, body in pages.items() if page.startswith("GET /api/inbox/stream/")]
    assert any('"type": "share"' in body and "event: unread_count" in body for body in streams), streams


def test_a_bystander_finds_no_trace_of_the_link_sharer_either(shared_world, request):
    *_, patterns, friend = shared_world
    assert not leaks(Crawler(friend, request).crawl(), patterns)


def test_the_tagged_user_and_the_dm_recipient_do_see_the_sharer(shared_world, request):
    _, tagged, recipient, patterns, _ = shared_world
    for user in (tagged, recipient):
        found = leaks(Crawler(user, request).crawl(), patterns[:1])
        assert found, f"{user.username} should see who shared the video with them"
