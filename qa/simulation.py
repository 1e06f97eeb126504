"""Deterministic load: simulated users acting through the real services, chosen by one seeded RNG.

Same seed, same actions, same outcome. The RNG never sees a database id or an unordered query: users
and videos are kept in creation order, and the relationships the choices depend on are tracked here.
Blocks and follows change who a pending event reaches, so before changing one the simulation waits for
every event so far to be delivered; everything else may be delivered in any order with the same result.
"""

import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db.models import Count, Sum

from inbox.models import Notification
from video_platform import services
from video_platform.contact_rules import ActionRefused
from video_platform.models import ContactPolicy, Conversation, Event
from video_platform.notification_types import NotificationType

User = get_user_model()

SIMULATED_PASSWORD = "simulated-user"
ACTION_WEIGHTS = {
    "view": 24,
    "like": 16,
    "comment": 10,
    "share_link": 9,
    "share_tag": 5,
    "share_dm": 5,
    "message": 8,
    "post": 6,
    "follow": 8,
    "unfollow": 2,
    "profile_view": 4,
    "block": 1,
    "unblock": 1,
}
PHRASES = [
    "this made my day",
    "wait for the end",
    "how is this real",
    "tutorial please",
    "again!!",
    "the timing",
    "saving this",
    "my favourite so far",
    "ok but the music",
    "who else is here at 2am",
]
CAPTIONS = [
    "morning routine",
    "trying the viral recipe",
    "street dance in the rain",
    "cat vs. laser",
    "one-take skate line",
    "sunset from the roof",
    "duet with my grandma",
    "speed painting",
]


def username_prefix(seed: int) -> str:
    return f"sim{seed}_"


def _refusal_reason(exc: Exception) -> str:
    """The refusal's message with the target's name taken out, so refusals group by reason."""
    message = " ".join(getattr(exc, "messages", None) or [str(exc)])
    return re.sub(r"@[\w.@+-]+", "@…", message)


@dataclass
class SimulationResult:
    performed: Counter = field(default_factory=Counter)
    refused: Counter = field(default_factory=Counter)  # (action, reason) → count
    setup: Counter = field(default_factory=Counter)


class Simulation:
    def __init__(self, *, users: int, seed: int, wait_for_delivery: Callable[[], None]):
        if users < 3:
            raise ValueError("simulate needs at least 3 users")
        self.rng = random.Random(seed)
        self.prefix = username_prefix(seed)
        self.user_count = users
        self.wait_for_delivery = wait_for_delivery
        self.result = SimulationResult()
        self.users: list = []
        self.videos: list = []
        self.following: set[tuple[int, int]] = set()  # (follower index, followee index)
        self.blocking: set[tuple[int, int]] = set()
        self.liked: set[tuple[int, int]] = set()  # (user index, video index)

    def reset(self) -> int:
        """Delete the users of an earlier run with this seed, and all they did."""
        deleted, _ = User.objects.filter(username__startswith=self.prefix).delete()
        Conversation.objects.filter(participants=None).delete()
        return deleted

    def set_up(self) -> None:
        rng, password = self.rng, make_password(SIMULATED_PASSWORD)
        for i in range(self.user_count):
            user = User.objects.create(username=f"{self.prefix}{i:04d}", password=password)
            services.profile_update(
                user=user,
                display_name=f"Sim {i}",
                is_pro=rng.random() < 0.2,
                dm_policy=rng.choices(list(ContactPolicy.values), weights=[75, 18, 7])[0],
                tag_policy=rng.choices(list(ContactPolicy.values), weights=[80, 15, 5])[0],
                muted_types=[rng.choice(list(NotificationType))] if rng.random() < 0.1 else [],
            )
            self.users.append(user)
        self.result.setup["users"] = self.user_count
        for i in range(self.user_count):
            if rng.random() < 0.05:
                self._block(i, self._other(i))
                self.result.setup["blocks"] += 1
        for i in range(self.user_count):
            for j in rng.sample(self._others(i), min(rng.randint(1, 5), self.user_count - 1)):
                self._follow(i, j)
                self.result.setup["follows"] += 1
        for i in range(self.user_count):
            self._post(i, caption=rng.choice(CAPTIONS))
            self.result.setup["videos"] += 1

    def run(self, actions: int, *, rate: float | None = None) -> Iterator[str]:
        """Perform ``actions`` actions, yielding each one's name; ``rate`` caps actions per second."""
        kinds, weights = list(ACTION_WEIGHTS), list(ACTION_WEIGHTS.values())
        started = time.monotonic()
        for n in range(actions):
            if rate:
                time.sleep(max(0.0, started + n / rate - time.monotonic()))
            kind = self.rng.choices(kinds, weights)[0]
            actor = self.rng.randrange(self.user_count)
            try:
                kind = getattr(self, f"_act_{kind}")(actor) or kind
            except (ActionRefused, ValidationError) as exc:
                self.result.refused[kind, _refusal_reason(exc)] += 1
            else:
                self.result.performed[kind] += 1
            yield kind

    def _others(self, i: int) -> list[int]:
        return [j for j in range(self.user_count) if j != i]

    def _other(self, i: int) -> int:
        j = self.rng.randrange(self.user_count - 1)
        return j + 1 if j >= i else j

    def _video_by_other(self, i: int) -> int:
        candidates = [v for v, video in enumerate(self.videos) if video.creator_id != self.users[i].pk]
        return self.rng.choice(candidates)

    def _text(self, i: int, phrases: list[str], mention_chance: float) -> str:
        text = self.rng.choice(phrases)
        if self.rng.random() < mention_chance:
            text += f" @{self.users[self._other(i)].username}"
        return text

    def _follow(self, i: int, j: int) -> None:
        services.follow_create(follower=self.users[i], followee=self.users[j])
        self.following.add((i, j))

    def _block(self, i: int, j: int) -> None:
        services.block_create(blocker=self.users[i], blocked=self.users[j])
        self.blocking.add((i, j))

    def _post(self, i: int, *, caption: str) -> None:
        self.videos.append(services.video_create(creator=self.users[i], caption=caption))

    def _act_view(self, i):
        services.video_view_record(video=self.videos[self._video_by_other(i)], viewer=self.users[i])

    def _act_profile_view(self, i):
        services.profile_view_record(profile_user=self.users[self._other(i)], viewer=self.users[i])

    def _act_like(self, i):
        v = self._video_by_other(i)
        if (i, v) in self.liked:
            services.like_delete(user=self.users[i], video=self.videos[v])
            self.liked.discard((i, v))
            return "unlike"
        services.like_create(user=self.users[i], video=self.videos[v])
        self.liked.add((i, v))

    def _act_comment(self, i):
        video = self.videos[self._video_by_other(i)]
        services.comment_create(author=self.users[i], video=video, text=self._text(i, PHRASES, 0.3))

    def _share(self, i, channel: str, people: list[int] = ()):
        people = [self.users[j] for j in people]
        services.video_share(
            sharer=self.users[i],
            video=self.videos[self._video_by_other(i)],
            channel=channel,
            tagged=people if channel == "tag" else (),
            recipients=people if channel == "dm" else (),
            message=self.rng.choice(PHRASES) if channel == "dm" else "",
        )

    def _act_share_link(self, i):
        self._share(i, "link")

    def _act_share_tag(self, i):
        self._share(i, "tag", self.rng.sample(self._others(i), self.rng.randint(1, 2)))

    def _act_share_dm(self, i):
        self._share(i, "dm", self.rng.sample(self._others(i), self.rng.randint(1, 2)))

    def _act_message(self, i):
        conversation, _ = services.conversation_get_or_create(
            creator=self.users[i], participants=[self.users[self._other(i)]]
        )
        services.message_send(sender=self.users[i], conversation=conversation, text=self.rng.choice(PHRASES))

    def _act_post(self, i):
        self._post(i, caption=self._text(i, CAPTIONS, 0.15))

    def _act_follow(self, i):
        candidates = [j for j in self._others(i) if (i, j) not in self.following]
        if not candidates:
            return self._act_view(i) or "view"
        j = self.rng.choice(candidates)
        self.wait_for_delivery()
        self._follow(i, j)

    def _act_unfollow(self, i):
        candidates = sorted(j for f, j in self.following if f == i)
        if not candidates:
            return self._act_follow(i) or "follow"
        j = self.rng.choice(candidates)
        self.wait_for_delivery()
        services.follow_delete(follower=self.users[i], followee=self.users[j])
        self.following.discard((i, j))

    def _act_block(self, i):
        j = self._other(i)
        self.wait_for_delivery()
        self._block(i, j)

    def _act_unblock(self, i):
        candidates = sorted(j for b, j in self.blocking if b == i)
        if not candidates:
            return self._act_block(i) or "block"
        j = self.rng.choice(candidates)
        self.wait_for_delivery()
        services.block_delete(blocker=self.users[i], blocked=self.users[j])
        self.blocking.discard((i, j))


def simulated_events(prefix: str):
    return Event.objects.filter(actor__username__startswith=prefix)


def notifications_by_type(prefix: str) -> dict[str, tuple[int, int]]:
    """Type → (inbox rows, sum of their counts) over the simulated users' inboxes."""
    rows = (
        Notification.objects.filter(recipient__username__startswith=prefix)
        .values_list("type")
        .annotate(rows=Count("id"), total=Sum("count"))
        .order_by("type")
    )
    return {kind: (n, total) for kind, n, total in rows}


def simulated_user_ids(prefix: str) -> list[int]:
    return list(User.objects.filter(username__startswith=prefix).values_list("pk", flat=True))


def simulation_summary(simulation: "Simulation", statuses: dict, *, seed: int, users: int, actions: int) -> dict:
    """The summary as plain data (``simulate --json``): the same figures as the printed tables."""
    result = simulation.result
    refused_by_kind = Counter()
    for (kind, _), n in result.refused.items():
        refused_by_kind[kind] += n
    return {
        "seed": seed,
        "users": users,
        "actions": actions,
        "user_prefix": simulation.prefix,
        "setup": dict(result.setup),
        "actions_by_kind": {
            kind: {"done": result.performed[kind], "refused": refused_by_kind[kind]}
            for kind in sorted(set(result.performed) | set(refused_by_kind))
        },
        "events": dict(statuses),
        "notifications": {
            kind: {"rows": rows, "count": total}
            for kind, (rows, total) in notifications_by_type(simulation.prefix).items()
        },
        "refused": [{"kind": kind, "reason": reason, "n": n} for (kind, reason), n in sorted(result.refused.items())],
    }
