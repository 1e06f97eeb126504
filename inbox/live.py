"""Pushing to open inbox streams: Redis pub/sub when ``REDIS_URL`` is set, polling the stream log otherwise.

A published message carries the stream messages of one transaction's log entries (a Push), which the stream
sends as they are when they continue what it has sent, or only says "look again" (a wake-up). Either way the
log is the truth: a stream that finds a gap, a wake-up or a lost message reads the log from the database, so
a lost message costs at most one keep-alive interval, never a notification.
"""

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from functools import cache

import redis
import redis.asyncio
from django.conf import settings

logger = logging.getLogger(__name__)

# Without Redis (the embedded default) an open stream reads its log this often.
POLL_SECONDS = 0.5


def channel_name(user_id: int) -> str:
    # Pub/sub channels ignore Redis database numbers: the database name keeps deployments apart.
    return f"shareloop:{settings.DATABASES['default']['NAME']}:inbox:{user_id}"


@cache
def _publisher() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


@dataclass(frozen=True)
class Push:
    """The stream messages of a user's log entries ``first`` to ``last``, as the stream would read them."""

    first: int
    last: int
    messages: list[str]

    def encode(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def decode(cls, data: bytes) -> "Push | None":
        """The push published as ``data``, or None for a wake-up."""
        fields = json.loads(data)
        return cls(**fields) if isinstance(fields, dict) else None


def listening(user_ids: Iterable[int]) -> list[int]:
    """Those of these users with a stream open now (one PUBSUB NUMSUB); none without Redis, or with it down.

    A stream subscribes before it first reads the log, so one that subscribes after this asks still finds the
    committed entries it was not told of.
    """
    user_ids = sorted(set(user_ids))
    if not settings.REDIS_URL or not user_ids:
        return []
    try:
        subscribers = _publisher().pubsub_numsub(*(channel_name(user_id) for user_id in user_ids))
    except redis.RedisError:
        # The entries are committed: open streams find them at their next keep-alive read.
        logger.warning("could not reach the inbox streams", exc_info=True)
        return []
    return [user_id for user_id, (_, count) in zip(user_ids, subscribers, strict=True) if count]


def publish(pushes: Mapping[int, Push | None]) -> None:
    """Send each user's open stream its Push, or a wake-up for None; call after the transaction that wrote
    their entries commits."""
    if not settings.REDIS_URL or not pushes:
        return
    pipeline = _publisher().pipeline(transaction=False)
    for user_id, push in sorted(pushes.items()):
        pipeline.publish(channel_name(user_id), b"1" if push is None else push.encode())
    try:
        pipeline.execute()
    except redis.RedisError:
        logger.warning("could not wake inbox streams", exc_info=True)


class Subscription:
    """An open stream's channel (without Redis, a poll timer)."""

    def __init__(self, pubsub=None):
        self._pubsub = pubsub

    async def wait(self) -> list[Push | None]:
        """What was published to the user's stream since the last wait, oldest first (None for a wake-up); an
        empty list after a while with nothing, or at once without Redis after a poll interval, to read the log
        anyway."""
        if self._pubsub is None:
            await asyncio.sleep(POLL_SECONDS)
            return []
        # Waking at least once per keep-alive interval doubles as a safety-net read of the log.
        message = await self._pubsub.get_message(
            ignore_subscribe_messages=True, timeout=settings.INBOX_STREAM_KEEPALIVE_SECONDS
        )
        published = []
        while message is not None:  # several publishes while we were busy: take them all
            published.append(Push.decode(message["data"]))
            message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=0)
        return published


@asynccontextmanager
async def subscribed(user_id: int) -> AsyncIterator[Subscription]:
    """Subscribe before the first read of the log, so nothing lands unseen between the two."""
    if not settings.REDIS_URL:
        yield Subscription()
        return
    client = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    pubsub = client.pubsub()
    try:
        await pubsub.subscribe(channel_name(user_id))
        yield Subscription(pubsub)
    finally:
        await pubsub.aclose()
        await client.aclose()
