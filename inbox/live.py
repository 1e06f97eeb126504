"""Waking open inbox streams: Redis pub/sub when ``REDIS_URL`` is set, polling the stream log otherwise.

A published message only says "look again": the stream reads what changed from the database, so a
lost message costs at most one keep-alive interval, never a notification.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
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


def publish(user_ids: Iterable[int]) -> None:
    """Wake the open streams of these users; call after the transaction that wrote their entries commits.

    Only channels someone listens on get a PUBLISH: one PUBSUB NUMSUB answers for a whole fan-out chunk,
    where a PUBLISH per follower cost a quarter of the chunk. A stream subscribes before it first reads
    the log, so one that subscribes after the NUMSUB still finds these committed entries.
    """
    if not settings.REDIS_URL:
        return
    channels = [channel_name(user_id) for user_id in sorted(set(user_ids))]
    if not channels:
        return
    client = _publisher()
    try:
        listened = [channel for channel, subscribers in client.pubsub_numsub(*channels) if subscribers]
        if listened:
            pipeline = client.pipeline(transaction=False)
            for channel in listened:
                pipeline.publish(channel, b"1")
            pipeline.execute()
    except redis.RedisError:
        # The entries are committed: open streams find them at their next keep-alive read.
        logger.warning("could not wake inbox streams", exc_info=True)


class Wakeup:
    def __init__(self, pubsub=None):
        self._pubsub = pubsub

    async def wait(self) -> None:
        """Return when the user's stream may have new entries, or after a while to look anyway."""
        if self._pubsub is None:
            await asyncio.sleep(POLL_SECONDS)
            return
        # Waking at least once per keep-alive interval doubles as a safety-net read of the log.
        message = await self._pubsub.get_message(
            ignore_subscribe_messages=True, timeout=settings.INBOX_STREAM_KEEPALIVE_SECONDS
        )
        while message is not None:  # several publishes while we were reading: one read covers them all
            message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=0)


@asynccontextmanager
async def wakeups(user_id: int) -> AsyncIterator[Wakeup]:
    """Subscribe before the first read of the log, so nothing lands unseen between the two."""
    if not settings.REDIS_URL:
        yield Wakeup()
        return
    client = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    pubsub = client.pubsub()
    try:
        await pubsub.subscribe(channel_name(user_id))
        yield Wakeup(pubsub)
    finally:
        await pubsub.aclose()
        await client.aclose()
