"""The broker floors: a task that does nothing but say it ran, and one that writes one row first, through the same
Redis and worker; and the warm-up that readies every worker process before the first stage."""

import time
from functools import cache

import redis
from celery import shared_task
from django.conf import settings
from django.db import connection, transaction

from inbox.sql import commit_without_waiting_for_flush

from .urls import WRITE_FLOOR_TABLE

PUBLISHED_KEY = "bench:published"


@cache
def bench_redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def count_broker_message(**kwargs) -> None:
    """One broker message taken by the worker (``task_received``): once all a stage's events are done, the
    messages its publishers sent."""
    bench_redis().incr(PUBLISHED_KEY)


@shared_task(name="bench.noop")
def noop(reply_key: str) -> None:
    bench_redis().rpush(reply_key, 1)


@shared_task(name="bench.delivery_floor")
def delivery_floor(channel: str, number: int) -> None:
    """The least a delivery does: one row in its own transaction (committed without waiting for the flush, as the
    product's deliveries are), then a wake-up published to the open stream that waits for it."""
    with transaction.atomic():
        commit_without_waiting_for_flush()
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {WRITE_FLOOR_TABLE} (user_id, body) VALUES (0, %s::jsonb)", [str(number)])
    bench_redis().publish(channel, number)


@shared_task(name="bench.warm_up")
def warm_up(reply_key: str) -> None:
    """Open this worker process's database connection and read each table a delivery writes, as a worker that
    has been running a while has; then hold on a moment, so that the next warm-up goes to the other process."""
    with connection.cursor() as cursor:
        for table in (
            "inbox_event",
            "inbox_eventchunk",
            "inbox_notification",
            "inbox_inboxstream",
            "inbox_streamentry",
            "platform_follow",
            "platform_profile",
            "platform_block",
            "platform_share",
        ):
            cursor.execute(f"SELECT 1 FROM {table} LIMIT 1")
    time.sleep(0.05)
    bench_redis().rpush(reply_key, 1)
