"""Analytics dashboard cost: request time with 10k vs 1M raw events, and the ratio, in one run.

The dashboard and GET /api/analytics/ read daily aggregates for settled days and raw rows only for
today, so their time should not grow with the number of raw events behind the aggregates.

    .venv/bin/python bench/analytics_dashboard.py [--sizes 10000 1000000] [--requests 50]

Runs the small size before and after the large one, so load drifting on a shared machine shows.
Needs PostgreSQL: uses BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/shareloop_analytics_bench),
creates that database if missing and empties it for each size.
"""

import argparse
import os
import platform
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/shareloop_analytics_bench"

HISTORY_DAYS = 90
VIDEOS = 20
FANS = 200
WARM_UP_REQUESTS = 10
TODAY_EVENTS = 500  # the same in every run: today is read from raw rows by design
# Shares of the raw events: video views, profile views, comments, shares.
MIX = (("video_views", 0.80), ("profile_views", 0.10), ("comments", 0.06), ("shares", 0.04))


def create_database(url: str) -> None:
    import psycopg

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "video_platform.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def reset() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE auth_user, analytics_rollupday RESTART IDENTITY CASCADE")


def copy_rows(table: str, columns: tuple[str, ...], rows) -> None:
    from django.db import connection

    connection.ensure_connection()
    with (
        connection.connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def populate(raw_events: int, rng: random.Random):
    """One Pro creator with VIDEOS videos, FANS fans, and ``raw_events`` spread over HISTORY_DAYS days."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from analytics.models import day_start
    from analytics.selectors import today_utc
    from video_platform.models import Profile, Video

    User = get_user_model()
    creator = User.objects.create_user("bench_creator", password="bench-password-1")
    Profile.objects.filter(user=creator).update(is_pro=True)
    fans = User.objects.bulk_create([User(username=f"fan{i}") for i in range(FANS)])
    Profile.objects.bulk_create([Profile(user=fan) for fan in fans])
    videos = Video.objects.bulk_create([Video(creator=creator, caption=f"bench video {i}") for i in range(VIDEOS)])
    video_ids, fan_ids = [v.pk for v in videos], [f.pk for f in fans]
    today = today_utc()
    history_start = day_start(today - timedelta(days=HISTORY_DAYS))
    history_seconds = HISTORY_DAYS * 86400
    now = timezone.now()
    today_seconds = max(int((now - day_start(today)).total_seconds()), 1)

    def moments(count: int, *, today_only: bool):
        for _ in range(count):
            if today_only:
                yield day_start(today) + timedelta(seconds=rng.randrange(today_seconds))
            else:
                yield history_start + timedelta(seconds=rng.randrange(history_seconds))

    def write(events: int, *, today_only: bool):
        counts = {metric: int(events * share) for metric, share in MIX}
        counts["video_views"] += events - sum(counts.values())
        copy_rows(
            "platform_videoview",
            ("video_id", "viewer_id", "created_at"),
            (
                (rng.choice(video_ids), rng.choice(fan_ids), at)
                for at in moments(counts["video_views"], today_only=today_only)
            ),
        )
        copy_rows(
            "platform_profileview",
            ("profile_user_id", "viewer_id", "created_at"),
            ((creator.pk, rng.choice(fan_ids), at) for at in moments(counts["profile_views"], today_only=today_only)),
        )
        copy_rows(
            "platform_comment",
            ("video_id", "author_id", "text", "created_at", "is_hidden"),
            (
                (rng.choice(video_ids), rng.choice(fan_ids), "nice", at, False)
                for at in moments(counts["comments"], today_only=today_only)
            ),
        )
        copy_rows(
            "platform_share",
            ("video_id", "sharer_id", "channel", "message", "created_at", "released_at"),
            (
                (rng.choice(video_ids), rng.choice(fan_ids), "link", "", at, at)
                for at in moments(counts["shares"], today_only=today_only)
            ),
        )

    write(raw_events - TODAY_EVENTS, today_only=False)
    write(TODAY_EVENTS, today_only=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return creator


def time_requests(client, path: str, requests: int) -> tuple[list[float], int]:
    from django.db import connection

    for _ in range(WARM_UP_REQUESTS):
        assert client.get(path).status_code == 200
    queries = []
    with connection.execute_wrapper(lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)):
        client.get(path)
    timings = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    return timings, len(queries)


def run_size(raw_events: int, requests: int) -> dict:
    from django.test import Client

    from analytics import services
    from analytics.selectors import today_utc
    from video_platform.models import ProfileView, VideoView

    reset()
    started = time.perf_counter()
    creator = populate(raw_events, random.Random(raw_events))
    inserted = time.perf_counter() - started
    raw_rows = VideoView.objects.count() + ProfileView.objects.count()
    started = time.perf_counter()
    for day in services.days_between(today_utc() - timedelta(days=HISTORY_DAYS), today_utc()):
        services.rollup_day(day=day)
    rolled = time.perf_counter() - started
    client = Client()
    client.force_login(creator)
    result = {"raw_events": raw_events, "raw_view_rows": raw_rows, "insert_s": inserted, "rollup_s": rolled}
    for name, path in (("api", "/api/analytics/?days=60"), ("dashboard", "/analytics/?days=60")):
        timings, queries = time_requests(client, path, requests)
        result[name] = {"timings": timings, "median_ms": statistics.median(timings), "queries": queries}
    print(
        f"{raw_events:>9,} raw events ({raw_rows:,} view rows): insert {inserted:.1f}s, roll-up {rolled:.1f}s; "
        f"API median {result['api']['median_ms']:.1f} ms ({result['api']['queries']} queries), "
        f"dashboard median {result['dashboard']['median_ms']:.1f} ms ({result['dashboard']['queries']} queries)",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[10_000, 1_000_000], metavar=("SMALL", "LARGE"))
    parser.add_argument("--requests", type=int, default=50, help="timed requests per endpoint and size")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    create_database(url)
    setup_django(url)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"PostgreSQL {server}; {args.requests} requests per endpoint, days=60",
        flush=True,
    )
    # Small, large, small again: the machine's load drifts, and the two small runs bracket the large one.
    small_before, large, small_after = (
        run_size(size, args.requests) for size in (args.sizes[0], args.sizes[1], args.sizes[0])
    )
    for name in ("api", "dashboard"):
        small_timings = small_before[name]["timings"] + small_after[name]["timings"]
        for label, pick in (("median", statistics.median), ("fastest", min)):
            before, after = pick(small_timings), pick(large[name]["timings"])
            print(
                f"{name} {label}: {before:.1f} ms -> {after:.1f} ms, ratio {after / before:.2f} "
                f"for {large['raw_events'] / small_before['raw_events']:.0f}x the raw events"
            )
        print(f"{name} queries per request: {small_before[name]['queries']} -> {large[name]['queries']}")


if __name__ == "__main__":
    main()
