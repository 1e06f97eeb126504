"""Running a scenario through the REST API, as a QA script would, and checking what the inboxes hold.

Every user gets a fresh account named ``<name>_<run id>`` so a scenario can run against any database,
again and again; the report maps the names back. Starting state (``follows``, ``blocks``, ``videos``)
is written directly and notifies nobody; every step goes through the API, and the run waits for each
step's event to be delivered (``GET /api/events/{id}/``) before the next, so outcomes never depend on
timing.
"""

import difflib
import json
import logging
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from inbox import batching, selectors, stream_log
from qa.waiting import DeliveryTimeout, delivery_timeout_message
from video_platform import services
from video_platform.models import Block, Follow, Video

from .loading import Scenario
from .steps import MODERATION, MODERATOR, Step

User = get_user_model()

SCENARIO_PASSWORD = "scenario-password"
FIELD_ORDER = ("type", "category", "video", "actor", "count", "unread", "text")


class ScenarioCannotRun(Exception):
    """The configuration refuses what scenarios need; the message names the setting to change."""


@dataclass
class Check:
    passed: bool
    title: str
    details: list[str] = field(default_factory=list)


class _OverTls:
    """Requests made as over TLS: production's HTTPS redirect would answer every plain one with a 301."""

    def generic(self, *args, **kwargs):
        kwargs["secure"] = True
        return super().generic(*args, **kwargs)


class HttpsApiClient(_OverTls, APIClient):
    pass


class HttpsClient(_OverTls, Client):
    pass


def _api_host() -> str:
    """A host the project accepts, for the in-process API client."""
    hosts = settings.ALLOWED_HOSTS
    if "*" in hosts or "testserver" in hosts or not hosts:
        return "testserver"
    return hosts[0].lstrip(".")


def _flow(item: dict, order=FIELD_ORDER) -> str:
    """A notification as one YAML flow line, fields in a fixed order, for the diffs."""

    def value(v):
        if v is None:
            return "null"
        if isinstance(v, bool):
            return "true" if v else "false"
        return f'"{v}"' if isinstance(v, str) and (" " in v or ":" in v or not v) else str(v)

    return "{" + ", ".join(f"{k}: {value(item[k])}" for k in order if k in item) + "}"


def _matches(expected: dict, actual: dict) -> bool:
    return all(actual.get(key) == value for key, value in expected.items())


def _best_matching(expected: list[dict], actual: list[dict]) -> dict[int, int]:
    """The largest pairing of expected items to distinct actual ones (augmenting paths; lists are short)."""
    pair_of_actual: dict[int, int] = {}

    def assign(i: int, seen: set[int]) -> bool:
        for j, item in enumerate(actual):
            if j not in seen and _matches(expected[i], item):
                seen.add(j)
                if j not in pair_of_actual or assign(pair_of_actual[j], seen):
                    pair_of_actual[j] = i
                    return True
        return False

    for i in range(len(expected)):
        assign(i, set())
    return {i: j for j, i in pair_of_actual.items()}


def inbox_diff(expected: list[dict], actual: list[dict]) -> list[str] | None:
    """None when ``actual`` is exactly ``expected`` in some order; else a unified diff."""
    pairs = _best_matching(expected, actual)
    if len(pairs) == len(expected) == len(actual):
        return None
    keys = {k for item in expected for k in item} or {"type", "video", "actor", "count"}
    expected_lines, actual_lines = [], []
    for i, item in enumerate(expected):
        expected_lines.append(_flow(item))
        if i in pairs:
            actual_lines.append(_flow(item))
    matched = set(pairs.values())
    actual_lines += [_flow({k: v for k, v in a.items() if k in keys}) for j, a in enumerate(actual) if j not in matched]
    context = len(expected) + len(actual)
    diff = difflib.unified_diff(expected_lines, actual_lines, "expected", "actual", lineterm="", n=context)
    return [line for line in diff if not line.startswith("@@")]


def stream_diff(expected: list[dict], actual: list[dict]) -> list[str] | None:
    """None when the stream carried exactly the expected messages in that order; else a unified diff."""
    if len(expected) == len(actual) and all(_matches(e, a) for e, a in zip(expected, actual, strict=True)):
        return None
    keys = ["event", *FIELD_ORDER, "total"]
    keys += sorted({k for item in expected for k in item} - set(keys))

    def line(item: dict, shown: set) -> str:
        return _flow({k: item[k] for k in keys if k in item and k in shown}, keys)

    expected_lines = [line(item, set(item)) for item in expected]
    actual_lines = [
        line(item, set(expected[i]) if i < len(expected) and expected[i].get("event") == item["event"] else set(item))
        for i, item in enumerate(actual)
    ]
    context = len(expected) + len(actual)
    diff = difflib.unified_diff(expected_lines, actual_lines, "expected", "actual", lineterm="", n=context)
    return [line for line in diff if not line.startswith("@@")]


def _unread_seen_as(counts: dict) -> dict:
    """An unread count as a scenario names it: total, each category, capped."""
    return {"total": counts["total"], **counts["by_category"], "capped": counts["capped"]}


def _differences(expected: dict, actual: dict) -> list[str]:
    return [f"-{key}: {value}\n+{key}: {actual[key]}" for key, value in expected.items() if actual[key] != value]


def configuration_refusal(scenarios: list[Scenario]) -> str | None:
    """One line naming the setting to change when this configuration cannot run ``scenarios``, else None."""
    rate = settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}).get("writes")
    if not rate:
        return None
    allowed, _ = SimpleRateThrottle.parse_rate(None, rate)
    for scenario in scenarios:
        # A step writes at most twice (a message opens its conversation first).
        writes = Counter(step.actor for step in scenario.steps)
        name, most = max(writes.items(), key=lambda item: item[1], default=("", 0))
        if 2 * most > allowed:
            return (
                f"{scenario.path}: {name} may write {2 * most} times, but THROTTLE_RATE_WRITES={rate} allows "
                f"{allowed}: raise THROTTLE_RATE_WRITES (or set DEMO_MODE=1, which turns throttles off)"
            )
    return None


def run_id_new() -> str:
    return secrets.token_hex(3)


def run_usernames(run_id: str, index: int, names) -> dict[str, str]:
    """The accounts of one file of a run: ``<name>_<run id>_<file number>`` (usernames are lower case)."""
    return {name: f"{name.lower()}_{run_id}_{index}" for name in names}


def run_email(username: str, run_id: str) -> str:
    """What marks an account as a scenario run's: no sign-up can give a user this address."""
    return f"{username}@scenario-run-{run_id}.invalid"


def run_users_delete(run_id: str) -> int:
    """Delete a run's scenario accounts and everything they did; others (demo, staff) are never touched."""
    if not re.fullmatch(r"[0-9a-f]{6}", run_id):
        raise ValueError(f"{run_id!r} is not a run id (six hex digits, printed at the start of a run)")
    ours = User.objects.filter(email__endswith=f"@scenario-run-{run_id}.invalid")
    count = ours.count()
    ours.delete()
    return count


class ScenarioRun:
    def __init__(
        self,
        scenario: Scenario,
        *,
        run_id: str | None = None,
        index: int = 1,
        timeout: float = 30.0,
        on_check: Callable[[Check], None] = print,
    ):
        self.scenario = scenario
        self.timeout = timeout
        self.on_check = on_check
        self.run_id = run_id or run_id_new()
        self.real = run_usernames(self.run_id, index, scenario.users)
        self.user_ids: list[int] = []
        self.users: dict = {}
        self.index = index
        self.video_creators: dict[str, str] = {label: video["creator"] for label, video in scenario.videos.items()}
        self.streams: dict[str, list[dict]] = {name: [] for name in scenario.expect.get("stream") or {}}
        self.stream_positions: dict[str, int] = {}
        self.moderator: Client | None = None
        self.clients: dict[str, APIClient] = {}
        self.video_ids: dict[str, int] = {}
        self.checks: list[Check] = []
        self.stalled = False  # an event was never delivered: later scenarios would only wait too

    def run(self) -> list[Check]:
        # Refusals are expected here: keep Django's "Forbidden: /api/…" warnings out of the report.
        request_log = logging.getLogger("django.request")
        level, request_log.level = request_log.level, logging.ERROR
        # A parallel step's threads each open a broker connection; the file broker warns about its hostname.
        broker_log = logging.getLogger("kombu.connection")
        broker_level, broker_log.level = broker_log.level, logging.ERROR
        try:
            return self._run()
        except (ScenarioCannotRun, DeliveryTimeout):
            raise
        except Exception as exc:  # one broken file is a FAIL of that file, never the end of the whole run
            error = f"{type(exc).__name__}: {self._names_out(str(exc))}"
            self._check(False, "the scenario stopped on an error", [error])
            return self.checks
        finally:
            request_log.level, broker_log.level = level, broker_level

    def _run(self) -> list[Check]:
        self._set_up()
        self._read_streams()
        for group in self._step_groups():
            try:
                self._step_group(group)
            except DeliveryTimeout as exc:
                self.stalled = True
                number, step = group[0]
                self._check(False, f"step {number} (line {step.line}) `{step.source}`: delivery", [str(exc)])
                return self.checks
            self._read_streams()
        self._expectations()
        return self.checks

    def _step_groups(self) -> list[list[tuple[int, Step]]]:
        """The steps, numbered, one group each; the steps of one `parallel:` item form one group."""
        groups: list[list[tuple[int, Step]]] = []
        for number, step in enumerate(self.scenario.steps, 1):
            if groups and step.parallel is not None and groups[-1][0][1].parallel == step.parallel:
                groups[-1].append((number, step))
            else:
                groups.append([(number, step)])
        return groups

    def _step_group(self, group: list[tuple[int, Step]]) -> None:
        if len(group) == 1:
            number, step = group[0]
            self._verify(number, step, self._perform(self._actor_client(step), step))
            return
        start = threading.Barrier(len(group))

        def perform(step: Step) -> list:
            client = self._actor_client(step, fresh=True)  # a client per request: they run at the same moment
            start.wait()
            try:
                return self._perform(client, step)
            finally:
                connection.close()  # this thread's own connection

        with ThreadPoolExecutor(max_workers=len(group)) as pool:
            responses = list(pool.map(perform, [step for _, step in group]))
        for (number, step), step_responses in zip(group, responses, strict=True):
            self._verify(number, step, step_responses)

    def _actor_client(self, step: Step, *, fresh: bool = False):
        if step.verb in MODERATION:
            return self._moderator_client()
        return self._client(self.users[step.actor]) if fresh else self.clients[step.actor]

    def _moderator_client(self) -> Client:
        """A staff account of this run, logged in to Django admin, where moderators hide and delete videos."""
        if self.moderator is None:
            username = f"{MODERATOR}_{self.run_id}_{self.index}"
            moderator = services.user_create(
                username=username, password=SCENARIO_PASSWORD, email=run_email(username, self.run_id)
            )
            User.objects.filter(pk=moderator.pk).update(is_staff=True, is_superuser=True)
            self.moderator = HttpsClient(SERVER_NAME=_api_host())
            self.moderator.force_login(User.objects.get(pk=moderator.pk))
        return self.moderator

    def _read_streams(self) -> None:
        """What each user's live stream sends after the last step: the stream's own reading of its log."""
        from inbox.stream import _messages_after  # the live stream's reader, so messages are exactly its own

        for name, messages in self.streams.items():
            more = True
            while more:
                sse, self.stream_positions[name], more = _messages_after(self.users[name], self.stream_positions[name])
                for text in sse:
                    fields = dict(line.split(": ", 1) for line in text.strip().splitlines())
                    messages.append(self._stream_seen_as(fields["event"], json.loads(fields["data"])))

    def _stream_seen_as(self, event: str, data: dict) -> dict:
        if event == "notification":
            return {"event": event, **self._seen_as(data)}
        return {"event": event, **_unread_seen_as(data)}

    def _check(self, passed: bool, title: str, details: list[str] = ()) -> None:
        check = Check(passed, title, list(details))
        self.checks.append(check)
        self.on_check(check)

    def _client(self, user=None) -> APIClient:
        client = HttpsApiClient(SERVER_NAME=_api_host())
        if user is not None:
            client.force_authenticate(user)
        return client

    def _names_in(self, text: str) -> str:
        """Scenario names mentioned in ``text`` (``@ben``) turned into the run's usernames."""
        return re.sub(r"@(\w+)", lambda m: f"@{self.real.get(m.group(1), m.group(1))}", text)

    def _names_out(self, text: str) -> str:
        for name, real in sorted(self.real.items(), key=lambda item: -len(item[1])):
            text = text.replace(real, name)
        return text

    def _set_up(self) -> None:
        # Starting state, written through the services (sign-up throttles would count every scenario user).
        users = {}
        for name, profile in self.scenario.users.items():
            users[name] = services.user_create(
                username=self.real[name],
                password=SCENARIO_PASSWORD,
                email=run_email(self.real[name], self.run_id),
                display_name=profile.get("display_name", name.title()),
            )
            self.user_ids.append(users[name].pk)
            self.users[name] = users[name]
            if name in self.streams:  # watched from the start, as by an open stream: its log holds the whole run
                stream_log.stream_watched(user_id=users[name].pk)
                self.stream_positions[name] = selectors.inbox_stream_position(user=users[name])
            settings_ = {k: v for k, v in profile.items() if k != "display_name"}
            if settings_:
                services.profile_update(user=users[name], **settings_)
            self.clients[name] = self._client(users[name])
        for follower, followees in self.scenario.follows.items():
            for followee in followees:
                Follow.objects.get_or_create(follower=users[follower], followee=users[followee])
        for blocker, blocked in self.scenario.blocks.items():
            for other in blocked:
                Block.objects.get_or_create(blocker=users[blocker], blocked=users[other])
        for label, video in self.scenario.videos.items():
            caption = self._names_in(video.get("caption") or f"video {label}")
            self.video_ids[label] = Video.objects.create(creator=users[video["creator"]], caption=caption).pk

    def _verify(self, number: int, step: Step, responses: list) -> None:
        """Wait for what the step set off, then check its answer as the file says."""
        client = self.clients.get(step.actor) or next(iter(self.clients.values()))
        where = f"step {number} (line {step.line}) `{step.source}`"
        if any(r.status_code == 429 for r in responses):
            raise ScenarioCannotRun(
                f"{where}: the API answered 429 Too Many Requests; raise THROTTLE_RATE_WRITES (or set DEMO_MODE=1)"
            )
        # Whatever the verdict, what the step set off is delivered before the next step starts.
        answers = [
            r.json() for r in responses if r.status_code in (200, 201) and r.get("Content-Type") == "application/json"
        ]
        for event_id in (answer.get("event_id") for answer in answers if isinstance(answer, dict)):
            if event_id and (status := self._wait_for(client, event_id)) != "done":
                self._check(False, f"{where}: delivery", [f"event {event_id} ended {status}"])
        if not responses:
            self._check(False, where, [f"{step.actor} has no unread {step.type} notification to read"])
            return
        response = responses[-1]
        body = response.json() if response.get("Content-Type", "").startswith("application/json") else {}
        detail = self._names_out(str(body.get("detail", ""))) if isinstance(body, dict) else ""
        if step.refused is not None:
            excerpt = step.refused if isinstance(step.refused, str) else ""
            passed = response.status_code == 403 and excerpt.lower() in detail.lower()
            got = f"{response.status_code} {detail or self._names_out(str(body))}"
            wanted = "a 403" + (f" whose detail contains {excerpt!r}" if excerpt else "")
            self._check(passed, f"{where} is refused", [] if passed else [f"expected {wanted}, got {got}"])
        elif step.verb in MODERATION:
            # Django admin answers a done action or deletion with a redirect back to its list.
            if response.status_code != 302:
                self._check(False, where, [f"Django admin answered {response.status_code}, not a redirect"])
        elif not 200 <= response.status_code < 300:
            self._check(False, where, [f"expected success, got {response.status_code} {self._names_out(str(body))}"])
        elif step.verb == "post":
            self.video_ids[step.video] = body["id"]
            self.video_creators[step.video] = step.actor

    def _perform(self, client, step: Step) -> list:
        if step.verb in MODERATION:
            video_id = self.video_ids[step.video]
            if step.verb == "delete":
                return [client.post(reverse("admin:platform_video_delete", args=[video_id]), {"post": "yes"})]
            action = {"action": step.verb, "_selected_action": [video_id]}
            return [client.post(reverse("admin:platform_video_changelist"), action)]
        real = [self.real[name] for name in step.people]
        video = f"/api/videos/{self.video_ids.get(step.video)}/"
        text = self._names_in(step.text)
        if step.verb == "post":
            return [client.post("/api/videos/", {"caption": text or f"video {step.video}"}, format="json")]
        if step.verb == "share_link":
            return [client.post(video + "shares/", {"channel": "link"}, format="json")]
        if step.verb == "share_tag":
            return [client.post(video + "shares/", {"channel": "tag", "tagged": real, "message": text}, format="json")]
        if step.verb == "share_dm":
            data = {"channel": "dm", "recipients": real, "message": text}
            return [client.post(video + "shares/", data, format="json")]
        if step.verb in ("like", "unlike"):
            return [(client.post if step.verb == "like" else client.delete)(video + "likes/")]
        if step.verb == "view":
            return [client.post(video + "views/")]
        if step.verb == "comment":
            return [client.post(video + "comments/", {"text": text}, format="json")]
        if step.verb in ("follow", "unfollow", "block", "unblock"):
            method = client.delete if step.verb.startswith("un") else client.post
            return [method(f"/api/users/{self.real[step.user]}/{step.verb.removeprefix('un')}/")]
        if step.verb == "message":
            opened = client.post("/api/conversations/", {"participants": real}, format="json")
            if opened.status_code not in (200, 201):
                return [opened]
            sent = client.post(f"/api/conversations/{opened.json()['id']}/messages/", {"text": text}, format="json")
            return [opened, sent]
        if step.verb == "read_all":
            query = f"?{urlencode({'category': step.category})}" if step.category else ""
            return [client.post(f"/api/inbox/read-all/{query}")]
        if step.verb == "read":
            return self._read(client, step)
        if step.verb == "set":
            return [client.patch("/api/me/", {step.key: step.value}, format="json")]
        raise AssertionError(f"no API call for {step.verb}")

    def _read(self, client: APIClient, step: Step) -> list:
        video_id = self.video_ids.get(step.video) if step.video else None
        unread = [
            n
            for n in self._inbox(client, unread=True)
            if n["type"] == step.type and (video_id is None or (n["video"] or {}).get("id") == video_id)
        ]
        return [client.post(f"/api/inbox/{n['id']}/read/") for n in unread]

    def _wait_for(self, client: APIClient, event_id: int) -> str:
        """Poll the event until it is delivered; shares a batch window holds are released for this run's users."""
        deadline = time.monotonic() + self.timeout
        while True:
            status = client.get(f"/api/events/{event_id}/").json()["status"]
            if status == "held":
                # Production batching: release what this run's users wait for, never anyone else's shares.
                batching.held_shares_release(everything=True, recipient_ids=self.user_ids)
            elif status != "pending":
                return status
            if time.monotonic() > deadline:
                raise DeliveryTimeout(delivery_timeout_message(1, self.timeout))
            time.sleep(0.05)

    def _inbox(self, client: APIClient, *, unread: bool | None = None) -> list[dict]:
        query = {"limit": 100} | ({"unread": "true" if unread else "false"} if unread is not None else {})
        url, notifications = f"/api/inbox/?{urlencode(query)}", []
        while url:
            page = client.get(url).json()
            notifications += page["results"]
            url = page["next"]
        return notifications

    def _seen_as(self, notification: dict) -> dict:
        labels = {pk: label for label, pk in self.video_ids.items()}
        actor, video = notification["actor"], notification["video"]
        return {
            "type": notification["type"],
            "category": notification["category"],
            "video": None if video is None else labels.get(video["id"], f"#{video['id']}"),
            "actor": None if actor is None else self._names_out(actor["username"]),
            "count": notification["count"],
            "unread": notification["unread"],
            "text": self._names_out(notification["text"]),
        }

    def _expectations(self) -> None:
        expect, lines = self.scenario.expect, self.scenario.lines
        inboxes = {name: self._inbox(client) for name, client in self.clients.items()}
        for name, expected in (expect.get("inboxes") or {}).items():
            diff = inbox_diff(expected, [self._seen_as(n) for n in inboxes[name]])
            self._check(diff is None, f"inbox of {name} (line {lines[f'inboxes.{name}']})", diff or [])
        for name, expected in (expect.get("unread") or {}).items():
            counts = self.clients[name].get("/api/inbox/unread-count/").json()
            wrong = _differences(expected, _unread_seen_as(counts))
            self._check(not wrong, f"unread counts of {name} (line {lines[f'unread.{name}']})", wrong)
        for label, expected in (expect.get("videos") or {}).items():
            # Read as its creator, who still sees the video when a moderator has hidden it.
            response = self.clients[self.video_creators[label]].get(f"/api/videos/{self.video_ids[label]}/")
            title = f"counts of video {label} (line {lines[f'videos.{label}']})"
            if response.status_code != 200:
                self._check(False, title, [f"the video answered {response.status_code}"])
                continue
            wrong = _differences(expected, response.json()["counts"])
            self._check(not wrong, title, wrong)
        for name, expected in (expect.get("stream") or {}).items():
            diff = stream_diff(expected, self.streams[name])
            self._check(diff is None, f"stream of {name} (line {lines[f'stream.{name}']})", diff or [])
        self._check_shares_are_anonymous(inboxes)

    def _check_shares_are_anonymous(self, inboxes: dict[str, list[dict]]) -> None:
        """Always checked, whatever the file expects: no share notification names anyone.

        Every field but the video (whose caption is the creator's own text) is searched for usernames.
        """
        leaks = [
            f"{name}: {self._names_out(str(n))}"
            for name, notifications in inboxes.items()
            for n in notifications
            if n["type"] == "share"
            and (n["actor"] is not None or any(real in str(n | {"video": None}) for real in self.real.values()))
        ]
        shares = sum(n["type"] == "share" for notifications in inboxes.values() for n in notifications)
        self._check(not leaks, f"no share notification names anyone ({shares} checked)", leaks)
