"""An API client for the whole Shareloop contract, one method per operation, and the delivery waits.

Every write that causes notifications answers an ``event_id``; the client remembers them, so
``wait_until_quiet(client)`` waits for everything that client set off, and ``wait_for(event)`` for one.
"""

import json
import time
from collections.abc import Iterator
from typing import Any

import requests

POLL_SECONDS = 0.05


class ApiError(Exception):
    """A response outside 2xx: ``status`` and the JSON ``body`` (``{"detail": …}`` or field errors)."""

    def __init__(self, method: str, path: str, status: int, body: Any):
        self.status, self.body = status, body
        super().__init__(f"{method} {path} answered {status}: {body}")


class DeliveryTimeout(Exception):
    pass


class ShareloopClient:
    def __init__(self, base_url: str, token: str | None = None, *, username: str | None = None, timeout: float = 30):
        self.base_url = base_url.rstrip("/")
        self.username = username
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"
        self.event_ids: list[int] = []  # every event this client's writes set off, for wait_until_quiet
        if token:
            self.session.headers["Authorization"] = f"Token {token}"

    # -- plumbing ---------------------------------------------------------------------------------------
    def request(self, method: str, path: str, *, json_body: Any = None, params: dict | None = None) -> Any:
        """The JSON answer of one call (None for an empty body); anything but 2xx raises ApiError."""
        response = self.session.request(
            method, self.base_url + path, json=json_body, params=params, timeout=self.timeout
        )
        body = response.json() if response.content else None
        if not response.ok:
            raise ApiError(method, path, response.status_code, body)
        if isinstance(body, dict) and body.get("event_id"):
            self.event_ids.append(body["event_id"])
        return body

    def get(self, path: str, **params) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None} or None)

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, json_body=body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    # -- accounts -----------------------------------------------------------------------------------------
    def sign_up(self, username: str, password: str, display_name: str = "") -> dict:
        body = {"username": username, "password": password} | ({"display_name": display_name} if display_name else {})
        return self.post("/api/users/", body)

    def log_in(self, username: str, password: str) -> "ShareloopClient":
        """A new client acting as ``username`` (a token from POST /api/auth/token/)."""
        token = self.post("/api/auth/token/", {"username": username, "password": password})["token"]
        return ShareloopClient(self.base_url, token, username=username, timeout=self.timeout)

    def me(self) -> dict:
        return self.get("/api/me/")

    def update_me(self, **settings) -> dict:
        return self.request("PATCH", "/api/me/", json_body=settings)

    def profile(self, username: str) -> dict:
        return self.get(f"/api/users/{username}/")

    def view_profile(self, username: str) -> Any:
        return self.post(f"/api/users/{username}/views/")

    def follow(self, username: str) -> dict:
        return self.post(f"/api/users/{username}/follow/")

    def unfollow(self, username: str) -> Any:
        return self.delete(f"/api/users/{username}/follow/")

    def block(self, username: str) -> dict:
        return self.post(f"/api/users/{username}/block/")

    def unblock(self, username: str) -> Any:
        return self.delete(f"/api/users/{username}/block/")

    # -- videos -------------------------------------------------------------------------------------------
    def post_video(self, caption: str) -> dict:
        return self.post("/api/videos/", {"caption": caption})

    def videos(self, **params) -> Any:
        return self.get("/api/videos/", **params)

    def video(self, video_id: int) -> dict:
        return self.get(f"/api/videos/{video_id}/")

    def view_video(self, video_id: int) -> Any:
        return self.post(f"/api/videos/{video_id}/views/")

    def like(self, video_id: int) -> dict:
        return self.post(f"/api/videos/{video_id}/likes/")

    def unlike(self, video_id: int) -> Any:
        return self.delete(f"/api/videos/{video_id}/likes/")

    def comments(self, video_id: int) -> Any:
        return self.get(f"/api/videos/{video_id}/comments/")

    def comment(self, video_id: int, text: str) -> dict:
        return self.post(f"/api/videos/{video_id}/comments/", {"text": text})

    def share(self, video_id: int, channel: str = "link", *, tagged=(), recipients=(), message: str = "") -> dict:
        body = {"channel": channel} | ({"tagged": list(tagged)} if tagged else {})
        body |= ({"recipients": list(recipients)} if recipients else {}) | ({"message": message} if message else {})
        return self.post(f"/api/videos/{video_id}/shares/", body)

    # -- direct messages ----------------------------------------------------------------------------------
    def conversations(self) -> Any:
        return self.get("/api/conversations/")

    def open_conversation(self, *usernames: str) -> dict:
        return self.post("/api/conversations/", {"participants": list(usernames)})

    def messages(self, conversation_id: int) -> Any:
        return self.get(f"/api/conversations/{conversation_id}/messages/")

    def send_message(self, conversation_id: int, text: str = "", video: int | None = None) -> dict:
        body = {"text": text} | ({"video": video} if video is not None else {})
        return self.post(f"/api/conversations/{conversation_id}/messages/", body)

    # -- inbox --------------------------------------------------------------------------------------------
    def inbox(self, category: str | None = None, unread: bool | None = None, limit: int = 100) -> list[dict]:
        """The whole inbox (every page), newest activity first."""
        params = {"category": category, "limit": limit, "unread": None if unread is None else str(unread).lower()}
        page = self.get("/api/inbox/", **params)
        notifications = list(page["results"])
        while page["next"]:
            page = self.request("GET", page["next"].removeprefix(self.base_url))
            notifications += page["results"]
        return notifications

    def notification(self, notification_id: int) -> dict:
        return self.get(f"/api/inbox/{notification_id}/")

    def read(self, notification_id: int) -> dict:
        return self.post(f"/api/inbox/{notification_id}/read/")

    def read_all(self, category: str | None = None) -> dict:
        return self.request("POST", "/api/inbox/read-all/", params={"category": category} if category else None)

    def unread_count(self) -> dict:
        """``{total, by_category, capped}``: exact up to 999; past that ``total`` is 999 and ``capped`` true."""
        return self.get("/api/inbox/unread-count/")

    def stream(self, *, last_event_id: int | None = None, read_timeout: float = 20) -> Iterator[dict]:
        """The live stream's messages as ``{"id", "event", "data"}`` (data parsed), forever: stop when done.

        Without ``last_event_id`` the stream opens with the current unread count and then carries what happens
        next. With one, it replays what came after it, if the log holds that: it is kept while the inbox is
        watched (an open stream, an inbox read) and for the replay window after (10 minutes by default);
        otherwise the stream opens as a fresh one.
        """
        replay = {} if last_event_id is None else {"Last-Event-ID": str(last_event_id)}
        headers = {"Accept": "text/event-stream"} | replay
        with self.session.get(
            self.base_url + "/api/inbox/stream/", headers=headers, stream=True, timeout=(self.timeout, read_timeout)
        ) as response:
            if not response.ok:
                raise ApiError("GET", "/api/inbox/stream/", response.status_code, response.text)
            message: dict = {}
            for line in response.iter_lines(decode_unicode=True):
                if line == "" and "data" in message:
                    yield message
                    message = {}
                elif line.startswith(("id:", "event:", "data:")):
                    key, _, value = line.partition(":")
                    value = value.strip()
                    message[key] = json.loads(value) if key == "data" else int(value) if key == "id" else value

    # -- delivery -----------------------------------------------------------------------------------------
    def event(self, event_id: int) -> dict:
        return self.get(f"/api/events/{event_id}/")

    def release_held(self) -> int:
        """POST /api/qa/release-held/: every held share now (a staff token, or anyone in DEMO_MODE)."""
        return self.post("/api/qa/release-held/")["released"]

    def analytics(self, days: int = 7) -> dict:
        return self.get("/api/analytics/", days=days)

    def schema(self) -> dict:
        return self.get("/api/schema/", format="json")


def _event_id(event: Any) -> int:
    if isinstance(event, dict):
        return event.get("event_id") or event["id"]
    return int(event)


def wait_for(
    client: ShareloopClient, event, *, timeout: float = 30, release_held: ShareloopClient | None = None
) -> dict:
    """Wait until ``event`` (an id, or a response carrying ``event_id``) is no longer ``pending``; answer it.

    A ``held`` event is fanned out but waits for its share batch window (``release_at``); with
    ``release_held`` (a client allowed to call POST /api/qa/release-held/) it is released and waited to ``done``.
    """
    event_id, deadline = _event_id(event), time.monotonic() + timeout
    while True:
        body = client.event(event_id)
        if body["status"] == "held" and release_held is not None:
            release_held.release_held()
        elif body["status"] != "pending":
            return body
        if time.monotonic() > deadline:
            raise DeliveryTimeout(f"event {event_id} still {body['status']} after {timeout:g}s: is a worker running?")
        time.sleep(POLL_SECONDS)


def wait_until_quiet(
    client: ShareloopClient, *, timeout: float = 30, release_held: ShareloopClient | None = None
) -> list[dict]:
    """Wait for every event ``client``'s writes set off so far; answer them (see ``wait_for`` for ``held``)."""
    deadline = time.monotonic() + timeout
    return [
        wait_for(client, event_id, timeout=max(deadline - time.monotonic(), 0), release_held=release_held)
        for event_id in client.event_ids
    ]
