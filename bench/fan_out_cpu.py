"""Where a post's fan-out spends its CPU: the worker's Python and the PostgreSQL backend, per 100,000 rows.

docs/scale.md sizes a cluster from these per-core figures. The chunks are delivered in this process, one after
the other, through the product's own ``post_chunk_deliver`` (exactly what a worker's task runs); the CPU of
this process and of its PostgreSQL backend are read from /proc (both on this host), so neither waits on the
other's share of the machine in the figures.

    .venv/bin/python -m bench.fan_out_cpu --followers 100000

It drops and recreates its own database (DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/shareloop_bench_cpu; the name must start with shareloop_bench).
"""

import argparse
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/shareloop_bench_cpu"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process on this host."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def wal_position(connection) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
        return cursor.fetchone()[0]


def wal_bytes_by_relation(connection, start: str, end: str) -> dict[str, int]:
    """WAL written between two positions for this database's tables and indexes, by relation (pg_walinspect
    reads the records), so other databases writing on the same server do not count."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect")
        cursor.execute("SELECT oid FROM pg_database WHERE datname = current_database()")
        database = cursor.fetchone()[0]
        cursor.execute(
            "SELECT coalesce(c.relname, 'other'), sum(w.record_length) FROM pg_get_wal_records_info(%s, %s) w"
            " LEFT JOIN pg_class c ON c.relfilenode = substring(w.block_ref from 'rel \\d+/\\d+/(\\d+)')::oid"
            " WHERE w.block_ref LIKE %s GROUP BY 1 ORDER BY 2 DESC",
            [start, end, f"%/{database}/%"],
        )
        return {name: int(size) for name, size in cursor.fetchall()}


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.startswith("shareloop_bench"):
        sys.exit(f"refusing to drop {name!r}: the database name must start with shareloop_bench")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--followers", type=int, default=100_000)
    parser.add_argument(
        "--chunk", type=int, default=4000, help="followers per chunk (POST_FAN_OUT_CHUNK_SIZE, 4000 by default)"
    )
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    recreate_database(url)
    os.environ.update(
        DATABASE_URL=url,
        DEBUG="0",
        SECRET_KEY="bench-only-not-a-secret",
        POST_FAN_OUT_CHUNK_SIZE=str(args.chunk),
        DJANGO_SETTINGS_MODULE="video_platform.settings",
    )
    os.environ.pop("REDIS_URL", None)  # no broker: the chunks are delivered here, their sends go to a file
    os.environ.setdefault("SHARELOOP_VAR_DIR", str(Path("var/bench-cpu").resolve()))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)

    from inbox.fan_out import event_deliver, post_chunk_deliver
    from inbox.models import Notification
    from video_platform import services
    from video_platform.models import Event, Follow

    creator = services.user_create(username="celebrity", password="bench-celebrity-password")
    with connection.cursor() as cursor:  # the followers, cheaply: rows, not the sign-up service
        cursor.execute(
            "INSERT INTO auth_user (username, password, is_superuser, is_staff, is_active, first_name, last_name,"
            " email, date_joined) SELECT 'fan_' || n, '!', false, false, true, '', '', '', now()"
            " FROM generate_series(1, %s) AS n RETURNING id",
            [args.followers],
        )
        follower_ids = [row[0] for row in cursor.fetchall()]
    Follow.objects.bulk_create([Follow(follower_id=pk, followee=creator) for pk in follower_ids], batch_size=10_000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]

    video = services.video_create(creator=creator, caption="New video for all of you")
    event_deliver(event_id=video.event.pk)
    chunks = len(Event.objects.get(pk=video.event.pk).chunk_bounds)

    wal_start = wal_position(connection)
    worker_cpu, backend_cpu, wall = time.process_time(), cpu_seconds(backend), time.perf_counter()
    for index in range(chunks):
        post_chunk_deliver(event_id=video.event.pk, index=index)
    wall = time.perf_counter() - wall
    worker_cpu = time.process_time() - worker_cpu
    backend_cpu = cpu_seconds(backend) - backend_cpu
    wal = wal_bytes_by_relation(connection, wal_start, wal_position(connection))  # after the clocks: it reads
    wal_bytes = sum(wal.values())

    rows = Notification.objects.filter(event_id=video.event.pk).count()
    assert rows == args.followers, f"{rows} rows for {args.followers} followers"
    per_100k = 100_000 / rows
    print(f"{rows} rows in {chunks} chunks of {args.chunk}, delivered one after the other in this process")
    print(f"wall            {wall:7.2f} s   {rows / wall:9,.0f} rows/s")
    wal_per_100k = wal_bytes * per_100k / 2**20
    print(f"WAL             {wal_bytes / rows:7.0f} bytes per row  {wal_per_100k:.1f} MiB per 100k rows")
    for name, size in wal.items():
        if size < rows:  # under a byte a row: the event, its chunks, the sequences
            continue
        print(f"  {name:40} {size / rows:5.0f} bytes per row")
    for name, seconds in (("worker CPU", worker_cpu), ("PostgreSQL CPU", backend_cpu)):
        print(
            f"{name:15} {seconds:7.2f} s   {rows / seconds:9,.0f} rows/s per core   "
            f"{seconds * per_100k:.2f} s per 100k rows"
        )


if __name__ == "__main__":
    main()
