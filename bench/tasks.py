"""The broker floor: a task that does nothing but say it ran, through the same Redis and worker."""

from functools import cache

import redis
from celery import shared_task
from django.conf import settings

PUBLISHED_KEY = "bench:published"


@cache
def bench_redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def count_broker_message(**kwargs) -> None:
    bench_redis().incr(PUBLISHED_KEY)


@shared_task(name="bench.noop")
def noop(reply_key: str) -> None:
    bench_redis().rpush(reply_key, 1)
