"""The timing attack on anonymous shares, run against the real services in simulated time.

A creator polls everything it can read (its video's share count in the API and on the page, Pro analytics,
the unread count, the inbox) after every change, while its audience acts: named actions (a like, then
comments) with link shares interleaved, seeded. Each time a share count moves, the creator guesses the
sharers: the users whose named actions it saw last before the move. The figures say how often that guess
is right against chance: a uniform guess among the users it saw act in the span the share may have come
from (the batch window before the move; see ``chance_span_seconds``).

Time is simulated: ``django.utils.timezone.now`` reads a clock the run advances, and batch windows are
released at their boundaries with that clock, so hours pass in seconds. Each run happens inside one
transaction that is rolled back: nothing is left behind and no worker is involved.
"""

import math
import random
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from statistics import fmean, pstdev
from unittest import mock

from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client, override_settings

from inbox import batching, fan_out
from video_platform import services as platform
from video_platform.models import Share

User = get_user_model()
# The simulated day starts at midnight UTC, so every release of the run falls on one analytics day or the next.
SIMULATION_START = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)
# A share comes this many seconds after its sharer's named action in the same session.
SHARE_DELAY_SECONDS = (5.0, 60.0)
SHARE_PROBABILITY = 0.35
PAGE_SHARE_COUNT = re.compile(r'data-count="shares">(\d+)<')
Z_95 = 1.959964


@dataclass(frozen=True)
class AttackSetup:
    name: str
    users: int  # the creator's audience
    sessions_per_user_hour: float
    hours: float
    window_seconds: int  # SHARE_NOTIFICATION_BATCH_SECONDS; 0 turns batching off
    min_crowd: int = 1
    max_delay_seconds: int = 3600
    # With batching off, a chance guess is confined to the production window (what batching would allow).
    chance_window_seconds: int = 600


@dataclass
class AttackResult:
    setup: AttackSetup
    shares_made: int = 0
    correct: list[int] = field(default_factory=list)  # per observed share: 1 when the guess named its sharer
    chance: list[float] = field(default_factory=list)  # per observed share: a uniform guess's chance
    alone_in_span: int = 0  # observed shares whose chance pool held one user: the span all but names them
    moves: list[datetime] = field(default_factory=list)  # when any surface showed new shares

    @property
    def moves_off_boundary(self) -> int:
        """Moves away from a boundary of the batch window (of the production window with batching off)."""
        window = self.setup.window_seconds or self.setup.chance_window_seconds
        return sum(1 for moment in self.moves if moment.timestamp() % window)

    @property
    def observed(self) -> int:
        return len(self.correct)

    @property
    def accuracy(self) -> float:
        return fmean(self.correct) if self.correct else 0.0

    @property
    def accuracy_interval(self) -> tuple[float, float]:
        return wilson_interval(sum(self.correct), self.observed)

    @property
    def chance_accuracy(self) -> float:
        return fmean(self.chance) if self.chance else 0.0

    @property
    def advantage_interval(self) -> tuple[float, float]:
        """95% interval of accuracy minus chance, per observed share (normal approximation)."""
        gains = [hit - p for hit, p in zip(self.correct, self.chance, strict=True)]
        if len(gains) < 2:
            return (-1.0, 1.0)
        half = Z_95 * pstdev(gains) / math.sqrt(len(gains))
        return (fmean(gains) - half, fmean(gains) + half)

    def as_dict(self) -> dict:
        low, high = self.accuracy_interval
        gain_low, gain_high = self.advantage_interval
        return {
            "setup": self.setup.name,
            "users": self.setup.users,
            "window_seconds": self.setup.window_seconds,
            "min_crowd": self.setup.min_crowd,
            "shares_made": self.shares_made,
            "shares_observed": self.observed,
            "accuracy": round(self.accuracy, 3),
            "accuracy_ci95": [round(low, 3), round(high, 3)],
            "chance": round(self.chance_accuracy, 3),
            "advantage_ci95": [round(gain_low, 3), round(gain_high, 3)],
            "alone_in_span": self.alone_in_span,
            "count_moves": len(self.moves),
            "count_moves_off_boundary": self.moves_off_boundary,
        }


def wilson_interval(hits: int, trials: int) -> tuple[float, float]:
    if not trials:
        return (0.0, 1.0)
    p = hits / trials
    denominator = 1 + Z_95**2 / trials
    centre = (p + Z_95**2 / (2 * trials)) / denominator
    half = Z_95 * math.sqrt(p * (1 - p) / trials + Z_95**2 / (4 * trials**2)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def default_setups(*, users: int, hours: float, window: int, min_crowd: int, max_delay: int) -> list[AttackSetup]:
    """The positive control, production batching, and a small quiet creator without and with a minimum crowd."""
    small = dict(users=5, sessions_per_user_hour=0.4, hours=hours * 4)
    return [
        AttackSetup("batching off (positive control)", users, 1.0, hours, window_seconds=0),
        AttackSetup("batching on", users, 1.0, hours, window_seconds=window),
        AttackSetup("small creator, batching off", **small, window_seconds=0),
        AttackSetup("small creator, batching on", **small, window_seconds=window),
        AttackSetup(
            f"small creator, batching on, min crowd {min_crowd}",
            **small,
            window_seconds=window,
            min_crowd=min_crowd,
            max_delay_seconds=max_delay,
        ),
    ]


@dataclass(frozen=True, order=True)
class Step:
    at: datetime
    order: int  # releases before actions at the same instant, then the drawing order
    kind: str  # "named", "share" or "release"
    user: int = -1


def timeline(setup: AttackSetup, rng: random.Random) -> list[Step]:
    """Sessions arrive per user at random (Poisson); each starts with a named action and may share after it."""
    end = SIMULATION_START + timedelta(hours=setup.hours)
    steps, order = [], 0
    for user in range(setup.users):
        moment = SIMULATION_START
        while True:
            moment += timedelta(hours=rng.expovariate(setup.sessions_per_user_hour))
            if moment >= end:
                break
            order += 1
            steps.append(Step(moment, order, "named", user))
            if rng.random() < SHARE_PROBABILITY:
                order += 1
                steps.append(Step(moment + timedelta(seconds=rng.uniform(*SHARE_DELAY_SECONDS)), order, "share", user))
    if setup.window_seconds:
        # Every boundary until the last carried share is out: the run ends after max delay past its end.
        boundary, last = SIMULATION_START, end + timedelta(seconds=setup.max_delay_seconds + setup.window_seconds)
        while boundary <= last:
            boundary += timedelta(seconds=setup.window_seconds)
            steps.append(Step(boundary, 0, "release"))
    return sorted(steps)


class SimulatedClock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@contextmanager
def simulated_time(start: datetime) -> Iterator[SimulatedClock]:
    """Every timestamp the project takes (``timezone.now``) reads the returned clock."""
    clock = SimulatedClock(start)
    with mock.patch("django.utils.timezone.now", clock):
        yield clock


class _RollBack(Exception):
    pass


class CreatorView:
    """What the creator reads after every change: share counts on every surface, and who did named actions.

    Polling after every change of the simulated world sees everything polling at any higher rate would.
    """

    def __init__(self, creator, video):
        self.video = video
        self.api, self.pages = Client(), Client()
        self.api.force_login(creator)
        self.pages.force_login(creator)
        self.seen_notifications: set[tuple] = set()
        self.share_count = 0

    def _json(self, url: str) -> dict:
        response = self.api.get(url, secure=True)
        assert response.status_code == 200, (url, response.status_code)
        return response.json()

    def poll(self) -> tuple[int, list[str]]:
        """(shares the surfaces show beyond the last poll, usernames seen acting since then)."""
        video = self._json(f"/api/videos/{self.video.pk}/")["counts"]["shares"]
        analytics = self._json("/api/analytics/?days=28")["totals"]["shares"]
        inbox = self._json("/api/inbox/")["results"]
        # The creator never reads its inbox, so its open share group counts every share delivered to it.
        in_inbox = sum(n["count"] for n in inbox if n["type"] == "share")
        page = self.pages.get(f"/videos/{self.video.pk}/", secure=True).content.decode()
        on_page = int(PAGE_SHARE_COUNT.search(page).group(1))
        # Any surface that moves gives the shares away; the attacker takes the one that moved most.
        count = max(video, analytics, on_page, in_inbox)
        actors = []
        for notification in inbox:
            key = (notification["id"], notification["count"], notification["updated_at"])
            if notification["actor"] and key not in self.seen_notifications:
                actors.append(notification["actor"]["username"])
            self.seen_notifications.add(key)
        new_shares, self.share_count = max(count - self.share_count, 0), max(count, self.share_count)
        return new_shares, actors


def run_attack(setup: AttackSetup, *, seed: int) -> AttackResult:
    """Simulate ``setup`` with the seeded actions, attack it, and roll everything back."""
    # The same seed gives the same audience behaviour with batching on and off.
    rng = random.Random(f"{seed}:{setup.users}:{setup.sessions_per_user_hour}:{setup.hours}")
    steps = timeline(setup, rng)
    result = AttackResult(setup)
    settings = dict(
        SHARE_NOTIFICATION_BATCH_SECONDS=setup.window_seconds,
        SHARE_RELEASE_MIN_CROWD=setup.min_crowd,
        SHARE_RELEASE_MAX_DELAY_SECONDS=setup.max_delay_seconds,
    )
    try:
        with override_settings(**settings), simulated_time(SIMULATION_START) as clock, transaction.atomic():
            _simulate(setup, steps, clock, result)
            raise _RollBack
    except _RollBack:
        pass
    return result


def _simulate(setup: AttackSetup, steps: list[Step], clock: SimulatedClock, result: AttackResult) -> None:
    creator = User.objects.create_user(username="attack_creator")
    platform.profile_update(user=creator, is_pro=True)
    video = platform.video_create(creator=creator, caption="the creator's video")
    fan_out.event_deliver(event_id=video.event.pk)
    audience = [User.objects.create_user(username=f"attack_user_{index}") for index in range(setup.users)]
    view = CreatorView(creator, video)
    named_log: list[tuple[datetime, str]] = []  # what the creator saw: (when, who)
    liked: set[int] = set()
    unscored: dict[int, str] = {}  # share id -> sharer, until the creator's surfaces show it
    last_move_at = SIMULATION_START
    for step in steps:
        clock.now = step.at
        if step.kind == "release":
            if not Share.objects.filter(released_at__isnull=True).exists():
                continue  # nothing held: nothing can move
            batching.held_shares_release(now=step.at)
        elif step.kind == "named":
            user = audience[step.user]
            if step.user in liked:
                event = platform.comment_create(author=user, video=video, text="nice one").event
            else:
                liked.add(step.user)
                event = platform.like_create(user=user, video=video).event
            fan_out.event_deliver(event_id=event.pk)
        else:
            share = platform.video_share(sharer=audience[step.user], video=video, channel="link")
            fan_out.event_deliver(event_id=share.event.pk)
            unscored[share.pk] = share.sharer.username
            result.shares_made += 1
        new_shares, actors = view.poll()
        named_log += [(step.at, username) for username in actors]
        if new_shares:
            _score(setup, step.at, last_move_at, new_shares, named_log, unscored, result)
            last_move_at = step.at
            result.moves.append(step.at)


def chance_span_seconds(setup: AttackSetup, *, since_last_move: timedelta) -> float:
    """How far back a share seen now may have been made, as far as the release rule lets anyone tell.

    Batching off: the production window (what batching would allow). Batching on: the window. With a
    minimum crowd: back to the previous move of the count, at most the maximum delay and a window.
    """
    if not setup.window_seconds:
        return setup.chance_window_seconds
    if setup.min_crowd <= 1:
        return setup.window_seconds
    longest = setup.max_delay_seconds + setup.window_seconds
    return min(max(setup.window_seconds, since_last_move.total_seconds()), longest)


def _score(
    setup, at: datetime, last_move_at: datetime, new_shares: int, named_log, unscored: dict[int, str], result
) -> None:
    """Guess the sharers of ``new_shares`` shares seen at ``at``; score against the shares released by now."""
    released = Share.objects.filter(pk__in=list(unscored), released_at__isnull=False).values_list("pk", flat=True)
    sharers = Counter(unscored.pop(pk) for pk in released)
    guesses, seen = [], set()
    for _, username in reversed(named_log):  # most recent first
        if username not in seen:
            seen.add(username)
            guesses.append(username)
        if len(guesses) == new_shares:
            break
    hits = sharers & Counter(guesses)
    pool_start = at - timedelta(seconds=chance_span_seconds(setup, since_last_move=at - last_move_at))
    pool = {username for moment, username in named_log if moment > pool_start}
    chance_per_pick = min(new_shares, len(pool)) / len(pool) if pool else 0.0
    for sharer, times in sharers.items():
        for index in range(times):
            result.correct.append(1 if index < hits[sharer] else 0)
            result.chance.append(chance_per_pick if sharer in pool else 0.0)
            result.alone_in_span += len(pool) == 1
