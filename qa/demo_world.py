"""The demo's lived-in world: 60 days of back-dated activity, the same on every build.

Every like, comment, share, follow, post and message goes through the same service as a user's request,
at a moment in the past (``_at`` sets the clock the services and their ``auto_now_add`` fields read), and
its event is delivered at once, so inbox rows, groups and the stream log carry that moment. Views have no
event: they are written in bulk per day with the counters bumped to match. The analytics roll-up then
folds each of the 60 days from those raw rows, as the beat task would have.
"""

import random
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from unittest import mock

from django.contrib.auth import get_user_model
from django.db.models import F
from django.utils import timezone

from analytics.selectors import today_utc
from analytics.services import days_between, rollup_day
from inbox.batching import held_shares_release
from inbox.fan_out import event_deliver, post_chunk_deliver
from inbox.reading import notifications_mark_all_read
from video_platform import services
from video_platform.models import Event, ProfileView, ShareChannel, Video, VideoView

User = get_user_model()

WORLD_SEED = 15
DAYS = 60
# Inboxes are read up to this many days ago, so the newest stay unread and older groups are closed.
UNREAD_DAYS = 2
FANS = [
    ("mia", "Mia Moreno"),
    ("noah", "Noah Park"),
    ("zoe", "Zoë Laurent"),
    ("omar", "Omar Haddad"),
    ("lena", "Lena Fischer"),
    ("kai", "Kai Nakamura"),
    ("rosa", "Rosa Delgado"),
    ("theo", "Theo Martin"),
    ("yara", "Yara Nasser"),
    ("finn", "Finn O'Brien"),
]
# (creator, caption, days ago posted)
VIDEOS = [
    ("cara", "Sunrise timelapse over the bay", 58),
    ("cara", "Three-minute ramen hack", 51),
    ("cara", "Packing a carry-on for two weeks", 40),
    ("cara", "Night market street food tour", 24),
    ("cara", "Fixing a squeaky bike brake in 60 seconds", 9),
    ("ana", "Skateboard kickflip, slow motion", 56),
    ("ana", "First time at the climbing gym", 37),
    ("ana", "Rainy day city walk, no talking", 18),
    ("ana", "Latte art fail compilation", 4),
    ("ben", "My cat vs. the cucumber", 55),
    ("ben", "Building a tiny desk bookshelf", 33),
    ("ben", "Cat learns the doorbell", 12),
    ("dev", "Learning 5 chords on ukulele in a week", 47),
    ("dev", "Rooftop garden, month two", 21),
    ("eli", "Sourdough starter, day one to day ten", 44),
    ("eli", "Trail run at golden hour", 7),
]
COMMENTS = [
    "This is gorgeous!",
    "How long did this take?",
    "Saving this for later",
    "Okay this made my day",
    "Need a part two",
    "The ending though",
    "Tried it, it works!",
    "Where is this?",
    "So calming",
    "Teach me please",
    "Underrated",
    "Watched it three times",
]
MESSAGES = [
    "Did you see the new one?",
    "Haha yes",
    "We should film one together",
    "Saturday works for me",
    "Sending you the link",
    "That was wild",
    "Coffee later?",
    "Loved your last video!",
]
CHATS = [("eli", "cara"), ("ana", "ben"), ("dev", "cara"), ("ben", "cara"), ("mia", "ana")]


@contextmanager
def _at(moment: datetime):
    """Run services as if it were ``moment``: timestamps, auto_now_add fields and inbox rows read this clock."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def _deliver(event) -> None:
    """Apply an action's event now, as the worker would have moments after the action."""
    if event is None:
        return
    event_deliver(event_id=event.pk)
    bounds = Event.objects.values_list("chunk_bounds", flat=True).get(pk=event.pk)
    for index in range(len(bounds or [])):
        post_chunk_deliver(event_id=event.pk, index=index)


@dataclass(order=True)
class _Action:
    moment: datetime
    order: int
    run: Callable = field(compare=False)


@dataclass
class WorldSummary:
    videos: int = 0
    actions: int = 0
    views: int = 0


class World:
    def __init__(self, users: dict, *, now: datetime | None = None):
        self.now = now or timezone.now()
        self.rng = random.Random(WORLD_SEED)
        self.users = users
        self.videos: dict[str, Video] = {}
        self.plan: list[_Action] = []
        self.summary = WorldSummary()

    def _moment(self, days_ago: int, *, hour_from: int = 8, hour_to: int = 23) -> datetime:
        """A time ``days_ago`` days back, always in the past (today's land in the last hours)."""
        if days_ago == 0:
            return self.now - timedelta(minutes=self.rng.randint(5, 300))
        day = self.now - timedelta(days=days_ago)
        return day.replace(hour=self.rng.randint(hour_from, hour_to), minute=self.rng.randint(0, 59), second=0)

    def _add(self, moment: datetime, run: Callable) -> None:
        self.plan.append(_Action(moment, len(self.plan), run))

    def build(self) -> WorldSummary:
        people = list(self.users.values())
        self._plan_follows(people)
        self._plan_videos(people)
        self._plan_chats()
        self._plan_reads([u for u in people if u.username not in dict(FANS)])
        for action in sorted(self.plan):
            with _at(action.moment):
                _deliver(action.run())
            self.summary.actions += 1
        self._write_views(people)
        for day in days_between(today_utc() - timedelta(days=DAYS), today_utc()):
            rollup_day(day=day)
        return self.summary

    def _plan_follows(self, people: list) -> None:
        demo = [u for u in people if u.username not in dict(FANS)]
        for follower in people:
            for followee in demo:
                if follower == followee:
                    continue
                if follower in demo:
                    days_ago = DAYS
                elif followee.username == "cara" or self.rng.random() < 0.6:
                    days_ago = self.rng.randint(0, DAYS - 1)
                else:
                    continue
                self._add(
                    self._moment(days_ago, hour_from=0, hour_to=7),
                    lambda a=follower, b=followee: services.follow_create(follower=a, followee=b).event,
                )

    def _post(self, creator, caption: str):
        video = services.video_create(creator=creator, caption=caption)
        self.videos[caption] = video
        self.summary.videos += 1
        return video.event

    def _plan_videos(self, people: list) -> None:
        for creator_name, caption, posted in VIDEOS:
            creator = self.users[creator_name]
            self._add(self._moment(posted, hour_from=6, hour_to=7), lambda c=creator, t=caption: self._post(c, t))
            audience = [u for u in people if u != creator]
            popularity = 3 if creator_name == "cara" else 1.5
            for person in audience:
                if self.rng.random() < 0.55:
                    self._add(self._moment(self._after(posted)), lambda u=person, t=caption: self._like(u, t))
                if self.rng.random() < 0.4:
                    text = self.rng.choice(COMMENTS)
                    self._add(
                        self._moment(self._after(posted)), lambda u=person, t=caption, s=text: self._comment(u, t, s)
                    )
            for _ in range(int(popularity * self.rng.randint(2, 6))):
                sharer = self.rng.choice(audience)
                channel = self.rng.choices([ShareChannel.LINK, ShareChannel.TAG, ShareChannel.DM], [6, 2, 2])[0]
                others = [u for u in people if u != sharer]
                # Some tags and DMs name the creator: then the creator learns who, as the rule says.
                named = creator if self.rng.random() < 0.3 else self.rng.choice([u for u in others if u != creator])
                self._add(
                    self._moment(self._after(posted)),
                    lambda u=sharer, t=caption, c=channel, n=named: self._share(u, t, c, n),
                )

    def _after(self, posted: int) -> int:
        """A day on or after the post, more often soon after it."""
        return max(0, posted - int(self.rng.expovariate(1 / 8)))

    def _like(self, user, caption: str):
        return services.like_create(user=user, video=self.videos[caption]).event

    def _comment(self, user, caption: str, text: str):
        return services.comment_create(author=user, video=self.videos[caption], text=text).event

    def _share(self, sharer, caption: str, channel: str, named):
        share = services.video_share(
            sharer=sharer,
            video=self.videos[caption],
            channel=channel,
            tagged=[named] if channel == ShareChannel.TAG else (),
            recipients=[named] if channel == ShareChannel.DM else (),
            message="You have to see this" if channel == ShareChannel.DM else "",
        )
        return share.event

    def _plan_chats(self) -> None:
        for first, second in CHATS:
            pair = (self.users[first], self.users[second])
            for days_ago in sorted(self.rng.sample(range(DAYS), 6), reverse=True):
                for turn in range(self.rng.randint(1, 3)):
                    sender = pair[turn % 2]
                    text = self.rng.choice(MESSAGES)
                    self._add(self._moment(days_ago), lambda s=sender, p=pair, t=text: self._message(s, p, t))

    def _message(self, sender, pair, text: str):
        other = pair[1] if sender == pair[0] else pair[0]
        conversation, _ = services.conversation_get_or_create(creator=sender, participants=[other])
        return services.message_send(sender=sender, conversation=conversation, text=text).event

    def _plan_reads(self, people: list) -> None:
        """Everyone reads their inbox late each evening, except the last days: those stay unread."""
        for days_ago in range(DAYS, UNREAD_DAYS - 1, -1):
            moment = (self.now - timedelta(days=days_ago)).replace(hour=23, minute=59, second=30)
            self._add(moment, lambda: self._read_all(people))

    def _read_all(self, people: list) -> None:
        held_shares_release(now=timezone.now())
        for person in people:
            notifications_mark_all_read(user=person)

    def _write_views(self, people: list) -> None:
        """Each day's views of every video and profile in one bulk write, with the video counters to match."""
        videos = Video.objects.filter(pk__in=[v.pk for v in self.videos.values()]).select_related("creator")
        videos = list(videos.order_by("pk"))  # a fixed order: the random draws below must come out the same
        totals = dict.fromkeys((video.pk for video in videos), 0)
        for days_ago in range(DAYS, -1, -1):
            video_views, profile_views = [], []
            for video in videos:
                age = (self.now - video.created_at).days - days_ago
                if age < 0:
                    continue
                popularity = 40 if video.creator.username == "cara" else 15
                count = max(1, int(popularity / (1 + age / 6)) + self.rng.randint(0, 6))
                viewers = [u for u in people if u.pk != video.creator_id] + [None]
                video_views += [VideoView(video=video, viewer=self.rng.choice(viewers)) for _ in range(count)]
                totals[video.pk] += count
            for profile_user in self.users.values():
                visitors = [u for u in people if u != profile_user]
                profile_views += [
                    ProfileView(profile_user=profile_user, viewer=self.rng.choice(visitors))
                    for _ in range(self.rng.randint(0, 5))
                ]
            with _at(self._moment(days_ago)):
                VideoView.objects.bulk_create(video_views, batch_size=1000)
                ProfileView.objects.bulk_create(profile_views, batch_size=1000)
        for video_pk, total in totals.items():
            Video.objects.filter(pk=video_pk).update(view_count=F("view_count") + total)
            self.summary.views += total


def world_exists(users: dict) -> bool:
    return Video.objects.filter(creator__in=users.values(), caption__in=[c for _, c, _ in VIDEOS]).exists()
