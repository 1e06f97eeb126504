"""Shareloop's benchmark suite: every figure is a ratio against a baseline measured in the same run.

    python -m bench.run [--followers 100000 --storm 20000 --latency 1000 --depth-total 1000000 ...]

It recreates its own database, serves the app as production does (``manage.py serve``: uvicorn, ASGI, one
process) and runs one Celery worker (2 processes) on the bench settings, drives the real API over HTTP,
and prints one table row per figure.
"""

import argparse
import http.client
import json
import os
import platform
import queue
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "var" / "bench"

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/shareloop_bench")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/8")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
os.environ["DEBUG"] = "0"
os.environ["DEMO_MODE"] = "0"
# Production settings otherwise, but plain HTTP on loopback and a load run: the HTTPS redirect, the
# write throttles and share batching (video_platform/settings.py) would measure something else.
os.environ["HTTPS_ONLY"] = "0"
os.environ["SHARE_NOTIFICATION_BATCH_SECONDS"] = "0"
for scope in ("WRITES", "SIGNUP", "LOGIN"):
    os.environ[f"THROTTLE_RATE_{scope}"] = "100000000/hour"
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
os.environ.setdefault("SHARELOOP_VAR_DIR", str(OUT_DIR))


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""
    met: bool | None = None

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline if self.baseline else None


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def recreate_database() -> None:
    import psycopg

    url = urlsplit(os.environ["DATABASE_URL"])
    name = url.path.lstrip("/")
    assert name.startswith("shareloop_bench"), f"refusing to recreate {name!r}: not a bench database"
    admin = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True)


class Api:
    """A plain HTTP/1.1 client, one connection per request: every endpoint and its floor pay the same."""

    def __init__(self, port: int):
        self.port = port

    def call(self, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, dict | None]:
        headers = {"Authorization": f"Token {token}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        finally:
            conn.close()
        return response.status, (json.loads(raw) if raw else None)

    def timed(self, method: str, path: str, token: str, body: dict | None = None) -> float:
        start = time.perf_counter()
        status, _ = self.call(method, path, token, body)
        elapsed = time.perf_counter() - start
        if status >= 400:
            raise RuntimeError(f"{method} {path} answered {status}")
        return elapsed


class InboxStreamClient:
    """An open ``GET /api/inbox/stream/`` (or another SSE path): a thread reads its Server-Sent Events and stamps
    each on arrival."""

    def __init__(self, port: int, token: str, path: str = "/api/inbox/stream/"):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.conn.request("GET", path, headers={"Authorization": f"Token {token}", "Accept": "text/event-stream"})
        self.response = self.conn.getresponse()
        if self.response.status != 200:
            raise RuntimeError(f"{path} answered {self.response.status}")
        self.conn.sock.settimeout(None)
        self.events: queue.Queue[tuple[float, str, dict]] = queue.Queue()
        self.thread = threading.Thread(target=self._read, name="inbox-stream", daemon=True)
        self.thread.start()

    def _read(self) -> None:
        event, data = "message", []
        try:
            for raw in iter(self.response.readline, b""):
                line = raw.decode().rstrip("\r\n")
                if not line:
                    if data:
                        self.events.put((time.perf_counter(), event, json.loads("\n".join(data))))
                    event, data = "message", []
                elif line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
        except (OSError, ValueError, http.client.HTTPException):
            pass  # closed by close()

    def next_event(self, name: str, matches=lambda data: True, timeout: float = 60.0) -> tuple[float, dict]:
        """The arrival time and data of the next ``event: <name>`` whose data matches."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                arrived, event, data = self.events.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise RuntimeError(f"no {name!r} event on the inbox stream within {timeout} s") from None
            if event == name and matches(data):
                return arrived, data

    def close(self) -> None:
        # Shut the socket down first: the reader sees the end and stops before the connection is torn down.
        with suppress(OSError):
            self.conn.sock.shutdown(socket.SHUT_RDWR)
        self.thread.join(timeout=5)
        self.conn.close()


class Services:
    """The app under test: ``manage.py serve`` (uvicorn, one process) and one Celery worker with 2 processes."""

    def __init__(self, port: int):
        self.port = port
        self.processes: list[subprocess.Popen] = []

    def start(self) -> None:
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        env = os.environ | {"LOG_LEVEL": "WARNING"}
        # The product's own server, as the Dockerfile and docker-compose start it: one uvicorn process.
        self.web = self._spawn(
            [sys.executable, "manage.py", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--log-level", "warning"],
            env, "web.log",
        )  # fmt: skip  # a command line, one flag and its value together
        self.worker = self._spawn(
            [sys.executable, "-m", "celery", "-A", "video_platform", "worker", "--concurrency", "2",
             "--loglevel", os.environ.get("BENCH_WORKER_LOGLEVEL", "WARNING"),
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"bench-{os.getpid()}@%h"],
            env, "worker.log",
        )  # fmt: skip  # a command line, one flag and its value together

    def _spawn(self, argv: list[str], env: dict, log_name: str) -> subprocess.Popen:
        log = open(OUT_DIR / log_name, "w")
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def worker_pids(self) -> list[int]:
        """The Celery worker's main process and its pool processes."""
        pids = [self.worker.pid]
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.worker.pid:
                pids.append(int(stat.parent.name))
        return pids

    def worker_peak_rss_mib(self) -> float:
        """Peak resident memory (VmHWM) of the worker's pool processes and of its main process."""
        return max(
            int(line.split()[1]) / 1024
            for pid in self.worker_pids()
            for line in Path(f"/proc/{pid}/status").read_text().splitlines()
            if line.startswith("VmHWM:")
        )

    @contextmanager
    def worker_paused(self) -> Iterator[None]:
        """Freeze the worker (SIGSTOP): tasks wait in Redis and run after SIGCONT, as after a slow worker."""
        pids = self.worker_pids()
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Bench:
    def __init__(self, args):
        self.args = args
        self.figures: list[Figure] = []
        self.notes: dict[str, object] = {}

    # ---- setup -------------------------------------------------------------------------------------

    def seed_users(self, count: int) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, "
                "is_staff, is_active, date_joined) "
                "SELECT '!', false, 'u' || g, '', '', '', false, true, now() FROM generate_series(1, %s) g",
                [count],
            )
            cursor.execute(
                "INSERT INTO platform_profile (user_id, display_name, bio, is_pro, dm_policy, tag_policy, muted_types) "
                "SELECT u.id, u.username, '', false, 'everyone', 'everyone', '[]'::jsonb FROM auth_user u "
                "WHERE NOT EXISTS (SELECT 1 FROM platform_profile p WHERE p.user_id = u.id)"
            )
            cursor.execute(
                "INSERT INTO authtoken_token (key, user_id, created) "
                "SELECT substr(md5('bench' || u.id) || md5('token' || u.id), 1, 40), u.id, now() FROM auth_user u "
                "WHERE NOT EXISTS (SELECT 1 FROM authtoken_token t WHERE t.user_id = u.id)"
            )
            cursor.execute("SELECT id FROM auth_user WHERE username LIKE 'u%%' ORDER BY id")
            self.mass_ids = [row[0] for row in cursor.fetchall()]
            cursor.execute("SELECT user_id, key FROM authtoken_token")
            self.tokens = dict(cursor.fetchall())

    def named_user(self, username: str):
        from django.contrib.auth import get_user_model
        from rest_framework.authtoken.models import Token

        user = get_user_model().objects.create_user(username=username)
        self.tokens[user.pk] = Token.objects.create(user=user).key
        return user

    def wait_events(self, events, timeout: float = 1800.0) -> None:
        from video_platform.models import EventStatus

        deadline = time.monotonic() + timeout
        while events.filter(status=EventStatus.PENDING).exists():
            if time.monotonic() > deadline:
                raise RuntimeError("events still pending at the deadline")
            time.sleep(0.02)
        failed = events.filter(status=EventStatus.FAILED).count()
        if failed:
            raise RuntimeError(f"{failed} events failed: see {OUT_DIR / 'worker.log'}")

    def noop_round_trip(self) -> float:
        from bench.tasks import bench_redis, noop

        key = f"bench:reply:{uuid.uuid4().hex}"
        start = time.perf_counter()
        noop.delay(key)
        if bench_redis().blpop([key], timeout=60) is None:
            raise RuntimeError("the no-op task never ran")
        return time.perf_counter() - start

    def delivery_floor_round_trip(self, floor_stream: "InboxStreamClient", channel: str, number: int) -> float:
        from bench.tasks import delivery_floor

        start = time.perf_counter()
        delivery_floor.delay(channel, number)
        arrived, _ = floor_stream.next_event("floor", lambda data: data == number)
        return arrived - start

    def vacuum(self) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

    # ---- 1. celebrity post ----------------------------------------------------------------------------

    def copy_baselines(self, rows: list[tuple]) -> dict[str, float]:
        """Seconds to COPY these notification rows (commit included) into each table of the issue's cost table.

        The lean table has the notification columns, a PK and only the indexes the product's reads need;
        the variants add back, one at a time, the real unread-count trigger (migration 0005's SQL), the
        model's deferred FK constraints and their single-column indexes. Each round runs every variant,
        in a rotated order, on a freshly created table; the mean of the rounds is reported.
        """
        from importlib import import_module

        from django.db import connection, transaction

        from inbox.models import Notification
        from inbox.notifications import NOTIFICATION_COLUMNS

        real, lean, counter = Notification._meta.db_table, "bench_lean_notification", "bench_lean_unreadcount"
        foreign_keys = [f for f in Notification._meta.concrete_fields if f.is_relation]
        trigger_sql = (
            import_module("inbox.migrations.0005_unread_count")
            .POSTGRESQL_TRIGGERS.replace("inbox_unreadcount", counter)
            .replace("inbox_unread_count_apply", "bench_lean_unread_count_apply")
            .replace(real, lean)
        )
        lean_sql = [
            f"CREATE TABLE {lean} (LIKE {real} INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS)",
            f"ALTER TABLE {lean} ADD PRIMARY KEY (id)",
            f"CREATE INDEX {lean}_recency ON {lean} (recipient_id, updated_at DESC, id DESC)",
            f"CREATE UNIQUE INDEX {lean}_once ON {lean} (event_id, recipient_id)",
            # Partial, as the product's is: the leanest index that serves the open-group upsert.
            f"CREATE UNIQUE INDEX {lean}_group ON {lean} (recipient_id, group_key) WHERE group_key IS NOT NULL",
            f"CREATE INDEX {lean}_unread ON {lean} (recipient_id, category) WHERE unread",
        ]
        extra_sql = {
            "lean": [],
            "lean + unread-count trigger": [
                (
                    f"CREATE TABLE {counter} (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
                    "recipient_id bigint NOT NULL, category varchar(10) NOT NULL, count integer NOT NULL, "
                    "UNIQUE (recipient_id, category))"
                ),
                f"CREATE INDEX {counter}_recipient ON {counter} (recipient_id)",
                trigger_sql,
            ],
            f"lean + {len(foreign_keys)} deferred FK constraints": [
                f"ALTER TABLE {lean} ADD CONSTRAINT {lean}_{f.column}_fk FOREIGN KEY ({f.column}) "
                f"REFERENCES {f.related_model._meta.db_table} ({f.target_field.column}) DEFERRABLE INITIALLY DEFERRED"
                for f in foreign_keys
            ],
            f"lean + {len(foreign_keys)} FK indexes": [
                f"CREATE INDEX {lean}_{f.column} ON {lean} ({f.column})" for f in foreign_keys
            ],
        }

        def drop_lean(cursor) -> None:
            cursor.execute(f"DROP TABLE IF EXISTS {lean}, {counter}")
            cursor.execute("DROP FUNCTION IF EXISTS bench_lean_unread_count_apply()")

        def copy_into(table: str) -> float:
            copy_sql = f"COPY {table} ({', '.join(NOTIFICATION_COLUMNS)}) FROM STDIN"
            start = time.perf_counter()
            with transaction.atomic(), connection.cursor() as cursor, cursor.cursor.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row(row)
            return time.perf_counter() - start

        event_id = rows[0][NOTIFICATION_COLUMNS.index("event_id")]
        variants = [real, *extra_sql]
        seconds: dict[str, list[float]] = {name: [] for name in variants}
        for round_index in range(self.args.copy_rounds):
            for name in variants[round_index % len(variants) :] + variants[: round_index % len(variants)]:
                if name == real:
                    seconds[name].append(copy_into(real))
                    with connection.cursor() as cursor:
                        cursor.execute(f"DELETE FROM {real} WHERE event_id = %s", [event_id])
                else:
                    with connection.cursor() as cursor:
                        drop_lean(cursor)
                        for statement in lean_sql + extra_sql[name]:
                            cursor.execute(statement)
                    seconds[name].append(copy_into(lean))
                    with connection.cursor() as cursor:
                        drop_lean(cursor)
                self.vacuum()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT (SELECT count(*) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'), "
                "(SELECT count(*) FROM pg_index WHERE indrelid = %s::regclass), "
                "(SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal)",
                [real, real, real],
            )
            fks, indexes, triggers = cursor.fetchone()
        self.notes["copy"] = dict(
            rows=len(rows),
            rounds=self.args.copy_rounds,
            seconds=seconds,
            real_table=dict(table=real, foreign_keys=fks, indexes_with_pk=indexes, triggers=triggers),
        )
        return {"real" if name == real else name: sum(values) / len(values) for name, values in seconds.items()}

    def celebrity_post(self) -> None:
        from django.contrib.auth import get_user_model
        from django.utils import timezone
        from notifications.signals import notify

        from bench.tasks import PUBLISHED_KEY, bench_redis
        from inbox.models import Notification
        from video_platform.models import Event, Follow, Video

        followers = self.args.followers
        celeb = self.named_user("celebrity")
        Follow.objects.bulk_create(
            [Follow(follower_id=uid, followee=celeb) for uid in self.mass_ids[:followers]], batch_size=5000
        )
        self.vacuum()
        caption = "New video for all of you"

        video = Video.objects.create(creator=celeb, caption=caption)
        event = Event.objects.create(kind="post", actor=celeb, video=video, payload={}, status="done")
        stamp = timezone.now()
        follower_ids = list(
            Follow.objects.filter(followee=celeb).order_by("follower_id").values_list("follower_id", flat=True)
        )
        rows = [
            (uid, "post", "posts", celeb.pk, video.pk, None, event.pk, caption, 1, True, None, stamp, stamp)
            for uid in follower_ids
        ]
        copy_seconds = self.copy_baselines(rows)

        start = time.perf_counter()
        peer_recipients = get_user_model().objects.filter(following_set__followee=celeb)
        notify.send(celeb, recipient=peer_recipients, verb="posted a new video", action_object=video)
        peer_seconds = time.perf_counter() - start
        self.vacuum()

        self.worker_warm_up()
        bench_redis().set(PUBLISHED_KEY, 0)
        started_at = time.time()
        status, body = self.api.call("POST", "/api/videos/", self.tokens[celeb.pk], {"caption": caption})
        assert status == 201, (status, body)
        self.wait_events(Event.objects.filter(pk=body["event_id"]))
        # To the last chunk's commit, which stamps the event done: the figure does not wait for a poll.
        path_seconds = Event.objects.get(pk=body["event_id"]).done_at.timestamp() - started_at
        messages = int(bench_redis().get(PUBLISHED_KEY))
        written = Notification.objects.filter(event_id=body["event_id"]).count()
        assert written == followers, f"{written} rows for {followers} followers"
        rss = self.services.worker_peak_rss_mib()

        self.notes["celebrity"] = dict(
            followers=followers,
            copy_seconds=copy_seconds,
            peer_seconds=peer_seconds,
            path_seconds=path_seconds,
            broker_messages=messages,
        )
        rate = {name: followers / value for name, value in copy_seconds.items()}
        path_rate, peer_rate = followers / path_seconds, followers / peer_seconds
        self.figures += [
            Figure(
                "1 celebrity post: rows/s, API to last row, vs lean COPY",
                path_rate,
                "rows/s",
                rate["lean"],
                "lean-table COPY rows/s",
                ">= 0.5x",
                path_rate >= 0.5 * rate["lean"],
            ),
            Figure(
                "1 celebrity post: rows/s vs the peer",
                path_rate,
                "rows/s",
                peer_rate,
                "notify.send rows/s",
                ">= 5x",
                path_rate >= 5 * peer_rate,
            ),
            Figure(
                "1 celebrity post vs COPY into inbox_notification as it is (reported)",
                path_rate,
                "rows/s",
                rate["real"],
                "inbox_notification COPY rows/s",
            ),
            Figure(
                "1 COPY cost: inbox_notification as it is (reported)",
                rate["real"],
                "rows/s",
                rate["lean"],
                "lean-table COPY rows/s",
            ),
            *(
                Figure(f"1 COPY cost: {name} (reported)", rate[name], "rows/s", rate["lean"], "lean-table COPY rows/s")
                for name in rate
                if name not in ("lean", "real")
            ),
            Figure(
                "1 celebrity post: broker messages per 500 recipients",
                messages / (followers / 500),
                "msgs",
                None,
                f"{messages} messages",
                "<= 1",
                messages <= followers / 500,
            ),
            Figure("1 celebrity post: worker peak RSS", rss, "MiB", None, "", "< 250 MiB", rss < 250),
        ]

    # ---- 2. share storm -----------------------------------------------------------------------------

    def concurrently(self, requests: list[tuple[str, str, str, dict]]) -> list[int]:
        def send(request):
            return self.api.call(*request)[0]

        with ThreadPoolExecutor(self.args.clients) as pool:
            return list(pool.map(send, requests))

    def comment_wave(self, video, authors: list[int]) -> float:
        """Seconds from the first of these concurrent comments to the last one's notification."""
        from video_platform.models import Event, EventStatus

        requests = [
            ("POST", f"/api/videos/{video.pk}/comments/", self.tokens[uid], {"text": "nice"}) for uid in authors
        ]
        start = time.perf_counter()
        statuses = self.concurrently(requests)
        self.wait_events(Event.objects.filter(video=video, status=EventStatus.PENDING))
        elapsed = time.perf_counter() - start
        assert statuses.count(201) == len(authors), "comment requests failed"
        return elapsed

    def share_storm(self) -> None:
        from inbox.models import Notification
        from video_platform.models import Event, Video

        size = self.args.storm
        sharers = self.mass_ids[:size]
        commented = Video.objects.create(creator=self.named_user("commented_creator"), caption="comment baseline")
        storm_creator = self.named_user("storm_creator")
        viral = Video.objects.create(creator=storm_creator, caption="viral")

        # The ungrouped baseline runs half before and half after the storm, so drifting machine load
        # weighs on both alike.
        half = size // 2
        comment_seconds = self.comment_wave(commented, sharers[:half])
        share_requests = [
            ("POST", f"/api/videos/{viral.pk}/shares/", self.tokens[uid], {"channel": "link"}) for uid in sharers
        ]
        start = time.perf_counter()
        statuses = self.concurrently(share_requests)
        self.wait_events(Event.objects.filter(video=viral))
        share_seconds = time.perf_counter() - start
        assert statuses.count(201) == size, "share requests failed"
        comment_seconds += self.comment_wave(commented, sharers[half:])
        ungrouped = Notification.objects.filter(video=commented, type="comment").count()
        assert ungrouped == size, f"{ungrouped} comment notifications for {size} comments"

        groups = list(
            Notification.objects.filter(recipient=storm_creator, type="share", unread=True).values_list(
                "count", "actor_id"
            )
        )
        share_count = Video.objects.get(pk=viral.pk).share_count
        exact = groups == [(size, None)] and share_count == size
        self.notes["storm"] = dict(
            size=size,
            groups=groups,
            share_count=share_count,
            share_seconds=share_seconds,
            comment_seconds=comment_seconds,
        )
        self.figures += [
            Figure(
                "2 share storm: one anonymous group, count = share count = N",
                float(exact),
                "bool",
                None,
                f"groups {groups}, share_count {share_count}",
                "exact",
                exact,
            ),
            Figure(
                "2 share storm: shares processed/s (reported)",
                size / share_seconds,
                "/s",
                size / comment_seconds,
                "ungrouped comments/s",
            ),
        ]

    # ---- 3. share -> inbox latency --------------------------------------------------------------------

    def share_latency(self) -> None:
        """Shares one at a time; the creator holds the inbox stream open throughout.

        Shares alternate: even ones are timed from their HTTP answer to the ``event: notification`` on the
        open stream (pushed; the target), odd ones to the first ``GET /api/inbox/`` that shows them (polled,
        reported). A no-op task round trip is timed before each share.
        """
        from video_platform.models import Event, Video

        count, period = self.args.latency, 1 / self.args.latency_rate
        creator = self.named_user("latency_creator")
        video = Video.objects.create(creator=creator, caption="latency")
        creator_token = self.tokens[creator.pk]
        for _ in range(20):
            self.noop_round_trip()
        channel = f"bench:push-floor:{uuid.uuid4().hex}"
        floor_stream = InboxStreamClient(self.services.port, creator_token, f"/bench/push-floor/?channel={channel}")
        stream = InboxStreamClient(self.services.port, creator_token)
        noop, floor, pushed, polled, answer, polls = [], [], [], [], [], []
        answered_at = {}  # event id -> wall clock of the share's answer, to compare with the event's done_at
        try:
            stream.next_event("unread_count")  # the opening message: the stream is subscribed and reading
            next_tick = time.perf_counter()
            for i, uid in enumerate(self.mass_ids[: 2 * count]):
                noop.append(self.noop_round_trip())
                floor.append(self.delivery_floor_round_trip(floor_stream, channel, i))
                asked = time.perf_counter()
                status, body = self.api.call(
                    "POST", f"/api/videos/{video.pk}/shares/", self.tokens[uid], {"channel": "link"}
                )
                answered, answered_wall = time.perf_counter(), time.time()
                assert status == 201, body
                answer.append(answered - asked)
                answered_at[body["event_id"]] = answered_wall
                if i % 2:
                    while True:
                        polled_at = time.perf_counter()
                        _, page = self.api.call("GET", "/api/inbox/?category=shares&limit=1", creator_token)
                        polls.append(time.perf_counter() - polled_at)
                        if page["results"] and page["results"][0]["count"] >= i + 1:
                            break
                    polled.append(time.perf_counter() - answered)
                arrived, _ = stream.next_event(
                    "notification", lambda data, shares=i + 1: data["type"] == "share" and data["count"] >= shares
                )
                if not i % 2:
                    pushed.append(arrived - answered)
                next_tick += period
                time.sleep(max(0.0, next_tick - time.perf_counter()))
        finally:
            stream.close()
            floor_stream.close()
        done_at = dict(Event.objects.filter(pk__in=answered_at).values_list("pk", "done_at"))
        delivered = [done_at[pk].timestamp() - at for pk, at in answered_at.items()]
        noop_p50 = percentile(noop, 50)
        self.notes["latency"] = dict(
            count_each=count,
            rate_per_s=self.args.latency_rate,
            noop_p50_ms=noop_p50 * 1000,
            noop_p99_ms=percentile(noop, 99) * 1000,
            delivery_floor_p50_ms=percentile(floor, 50) * 1000,
            pushed_p50_ms=percentile(pushed, 50) * 1000,
            pushed_p99_ms=percentile(pushed, 99) * 1000,
            polled_p50_ms=percentile(polled, 50) * 1000,
            polled_p99_ms=percentile(polled, 99) * 1000,
            # The clock starts at the answer: a share answered sooner leaves more of its fan-out inside it.
            share_answer_p50_ms=percentile(answer, 50) * 1000,
            # The worker's part alone (the event's done_at is set just before its commit, so reads early).
            delivered_p50_ms=percentile(delivered, 50) * 1000,
            poll_p50_ms=percentile(polls, 50) * 1000,
            polls_per_share=len(polls) / count,
        )
        self.figures += [
            Figure(
                "3 share -> creator's open stream p50 (pushed)",
                percentile(pushed, 50) * 1000,
                "ms",
                noop_p50 * 1000,
                "no-op task round trip p50",
                "<= 1.5x",
                percentile(pushed, 50) <= 1.5 * noop_p50,
            ),
            Figure(
                "3 push floor p50 (reported): a task writes one row, an open stream relays it",
                percentile(floor, 50) * 1000,
                "ms",
                noop_p50 * 1000,
                "no-op task round trip p50",
            ),
            Figure(
                "3 share -> creator's open stream p50, against the push floor (reported)",
                percentile(pushed, 50) * 1000,
                "ms",
                percentile(floor, 50) * 1000,
                "push floor p50",
            ),
            Figure(
                "3 share -> open stream p99 (reported)",
                percentile(pushed, 99) * 1000,
                "ms",
                percentile(noop, 99) * 1000,
                "no-op task round trip p99",
            ),
            Figure(
                "3 share -> inbox p50, polled (reported)",
                percentile(polled, 50) * 1000,
                "ms",
                noop_p50 * 1000,
                "no-op task round trip p50",
            ),
            Figure(
                "3 share -> event done p50 (reported, the worker's part)",
                percentile(delivered, 50) * 1000,
                "ms",
                noop_p50 * 1000,
                "no-op task round trip p50",
            ),
        ]

    def post_to_open_streams(self) -> None:
        """``--open-streams`` followers hold their inbox stream open and their creator posts: from the post's
        answer until the last stream shows it (reported), and the PostgreSQL sessions opened meanwhile (the post's
        own request opens one; streams that read their log would open one each)."""
        from django.db import connection

        from video_platform.models import Follow

        count = self.args.open_streams
        creator = self.named_user("streamed_creator")
        fans = self.mass_ids[:count]
        Follow.objects.bulk_create([Follow(follower_id=uid, followee=creator) for uid in fans])
        noop = [self.noop_round_trip() for _ in range(20)]
        streams = [InboxStreamClient(self.services.port, self.tokens[uid]) for uid in fans]

        def sessions() -> int:
            with connection.cursor() as cursor:
                cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
                return cursor.fetchone()[0]

        try:
            for stream in streams:
                stream.next_event("unread_count")  # subscribed and reading
            before = sessions()
            status, body = self.api.call("POST", "/api/videos/", self.tokens[creator.pk], {"caption": "live"})
            answered = time.perf_counter()
            assert status == 201, (status, body)
            shown = [stream.next_event("notification", lambda data: data["type"] == "post")[0] for stream in streams]
            opened = sessions() - before
        finally:
            for stream in streams:
                stream.close()
        last = max(shown) - answered
        self.notes["open_streams"] = dict(
            streams=count,
            noop_p50_ms=percentile(noop, 50) * 1000,
            shown_p50_ms=(percentile(shown, 50) - answered) * 1000,
            shown_last_ms=last * 1000,
            sessions_opened=opened,
        )
        self.figures += [
            Figure(
                f"3 post -> the last of {count} followers' open streams (reported)",
                last * 1000,
                "ms",
                percentile(noop, 50) * 1000,
                "no-op task round trip p50",
            ),
            Figure(
                f"3 PostgreSQL sessions opened while {count} open streams showed a post (reported)",
                opened,
                "sessions",
                None,
                "the post's request opens 1 (a worker process opens its own at its first task)",
            ),
        ]

    # ---- 4, 5. inbox reads at depth, unread counts ----------------------------------------------------

    def seed_depth(self, reader) -> None:
        from django.db import connection

        from video_platform.models import Video

        total, own = self.args.depth_total, self.args.depth_user
        videos = [Video.objects.create(creator_id=uid, caption=f"seeded {uid}").pk for uid in self.mass_ids[:20]]
        actors = self.mass_ids[:1000]
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM inbox_notification")
            existing = cursor.fetchone()[0]
            others = max(0, total - own - existing)
            for recipient_sql, rows, params in (
                ("%s", own, [reader.pk]),
                ("(%s::bigint[])[1 + g %% %s]", others, [self.mass_ids, len(self.mass_ids)]),
            ):
                cursor.execute(
                    "INSERT INTO inbox_notification (recipient_id, type, category, actor_id, video_id, "
                    "conversation_id, event_id, excerpt, count, unread, group_key, created_at, updated_at) "
                    f"SELECT {recipient_sql}, (ARRAY['post','comment','follow','mention'])[1 + g %% 4], "
                    "(ARRAY['posts','comments','followers','mentions'])[1 + g %% 4], "
                    "(%s::bigint[])[1 + g %% %s], (%s::bigint[])[1 + g %% %s], NULL, NULL, 'seeded', 1, true, NULL, "
                    "now() - g * interval '1 millisecond', now() - g * interval '1 millisecond' "
                    "FROM generate_series(1, %s) g",
                    [*params, actors, len(actors), videos, len(videos), rows],
                )
        self.vacuum()

    def inbox_reads(self) -> None:
        from inbox.models import Notification

        reader = self.named_user("deep_reader")
        self.seed_depth(reader)
        token = self.tokens[reader.pk]
        total = Notification.objects.count()
        held = Notification.objects.filter(recipient=reader).count()
        unread = Notification.objects.filter(recipient=reader, unread=True).count()

        cursor_path = "/api/inbox/"
        for _ in range(499):
            _, page = self.api.call("GET", cursor_path, token)
            next_url = urlsplit(page["next"])
            cursor_path = f"{next_url.path}?{next_url.query}"
        depth = 499 * 20
        endpoints = {
            "floor": "/bench/floor/",
            "first page": "/api/inbox/",
            "page 500 (cursor)": cursor_path,
            "page 500 (offset)": f"/bench/inbox-offset/?limit=20&offset={depth}",
            "unread count": "/api/inbox/unread-count/",
        }
        _, page = self.api.call("GET", cursor_path, token)
        _, offset_page = self.api.call("GET", endpoints["page 500 (offset)"], token)
        assert [n["id"] for n in page["results"]] == [n["id"] for n in offset_page["results"]], "pages disagree"
        _, counts = self.api.call("GET", endpoints["unread count"], token)
        # Exact, or (issue 18) capped: then it says so and the cap is below the true count.
        assert counts["total"] == unread or (counts.get("capped") and counts["total"] < unread), (counts, unread)

        samples: dict[str, list[float]] = {name: [] for name in endpoints}
        for _ in range(20):
            for path in endpoints.values():
                self.api.timed("GET", path, token)
        order = list(endpoints.items())
        shuffler = random.Random(8)
        for _ in range(self.args.reads):
            # Interleaved, in a new order each round: noise and cache effects hit every endpoint alike.
            shuffler.shuffle(order)
            for name, path in order:
                samples[name].append(self.api.timed("GET", path, token))
        p99 = {name: percentile(values, 99) * 1000 for name, values in samples.items()}
        p50 = {name: percentile(values, 50) * 1000 for name, values in samples.items()}
        self.notes["reads"] = dict(
            total_notifications=total,
            reader_holds=held,
            reader_unread=unread,
            requests_each=self.args.reads,
            unread_count_answer=counts,
            p50_ms=p50,
            p99_ms=p99,
        )
        floor = p99["floor"]
        self.figures += [
            Figure(
                "4 inbox first page p99",
                p99["first page"],
                "ms",
                floor,
                "floor p99",
                "<= 2x",
                p99["first page"] <= 2 * floor,
            ),
            Figure(
                "4 inbox page 500 by cursor p99",
                p99["page 500 (cursor)"],
                "ms",
                floor,
                "floor p99",
                "<= 2x",
                p99["page 500 (cursor)"] <= 2 * floor,
            ),
            Figure(
                "4 inbox page 500 by offset p99 (contrast)",
                p99["page 500 (offset)"],
                "ms",
                floor,
                "floor p99",
                "",
                None,
            ),
            Figure(
                "5 unread count p99",
                p99["unread count"],
                "ms",
                floor,
                "floor p99",
                "<= 1.3x",
                p99["unread count"] <= 1.3 * floor,
            ),
        ]

    # ---- 6. write API throughput --------------------------------------------------------------------

    def write_throughput(self) -> None:
        """Share POSTs against the write floor (one row, one transaction), 8 clients for a fixed time each.

        Order: write floor, shares with delivery running, shares with the worker frozen (its backlog is
        delivered before going on), write floor again; the floor is the mean of its two loads. The read
        floor's POST (no write) runs once, for the notes.
        """
        from video_platform.models import Event, Video

        seconds, clients = self.args.throughput_seconds, self.args.clients
        videos = [Video.objects.create(creator_id=uid, caption="shared a lot").pk for uid in self.mass_ids[-20:]]
        sharers = self.mass_ids[: len(self.mass_ids) - 20]
        body = {"channel": "link"}

        def load(path_for) -> float:
            def client(index: int) -> int:
                done, deadline = 0, time.perf_counter() + seconds
                while time.perf_counter() < deadline:
                    uid = sharers[(index * 7919 + done * clients) % len(sharers)]
                    status, _ = self.api.call("POST", path_for(index + done * clients), self.tokens[uid], body)
                    assert status == 201, status
                    done += 1
                return done

            start = time.perf_counter()
            with ThreadPoolExecutor(clients) as pool:
                done = sum(pool.map(client, range(clients)))
            return done / (time.perf_counter() - start)

        def share_path(index: int) -> str:
            return f"/api/videos/{videos[index % len(videos)]}/shares/"

        def write_floor_path(index: int) -> str:
            return "/bench/write-floor/"

        first_event = Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        floor_before = load(write_floor_path)
        shares = load(share_path)
        self.wait_events(Event.objects.filter(pk__gt=first_event))
        # The same load with the deliveries left for later: what the request alone allows on these cores.
        with self.services.worker_paused():
            requests_alone = load(share_path)
        self.wait_events(Event.objects.filter(pk__gt=first_event))
        floor_after = load(write_floor_path)
        read_floor = load(lambda index: "/bench/floor/")
        floor = (floor_before + floor_after) / 2
        self.notes["throughput"] = dict(
            seconds=seconds,
            clients=clients,
            write_floor_before=floor_before,
            write_floor_after=floor_after,
            read_floor_post=read_floor,
            shares=shares,
            shares_worker_paused=requests_alone,
        )
        self.figures += [
            Figure(
                "6 share POST throughput, worker frozen",
                requests_alone,
                "req/s",
                floor,
                "write floor POST req/s",
                ">= 0.8x",
                requests_alone >= 0.8 * floor,
            ),
            Figure(
                "6 share POST throughput, delivery running",
                shares,
                "req/s",
                floor,
                "write floor POST req/s",
                ">= 0.5x",
                shares >= 0.5 * floor,
            ),
            Figure(
                "6 write floor vs the read floor's POST (reported)",
                floor,
                "req/s",
                read_floor,
                "read floor POST req/s (no write)",
            ),
        ]

    # ---- the run ----------------------------------------------------------------------------------------

    def run(self) -> None:
        import django

        started = time.time()
        recreate_database()
        django.setup()
        from django.db import connection

        from bench.urls import WRITE_FLOOR_DDL
        from video_platform.celery import app

        with connection.cursor() as cursor:
            cursor.execute(WRITE_FLOOR_DDL)

        self.seed_users(max(self.args.followers, self.args.storm, 2 * self.args.latency, 2000))
        self.vacuum()
        app.control.purge()
        self.services = Services(free_port())
        self.api = Api(self.services.port)
        self.services.start()
        try:
            self.wait_ready()
            stages = {
                "celebrity": self.celebrity_post,
                "storm": self.share_storm,
                "latency": self.share_latency,
                "streams": self.post_to_open_streams,
                "reads": self.inbox_reads,
                "throughput": self.write_throughput,
            }
            for name, stage in stages.items():
                if name in self.args.only or not self.args.only:
                    stage_start = time.perf_counter()
                    print(f"== {name} ...", flush=True)
                    stage()
                    print(f"   {name} took {time.perf_counter() - stage_start:.0f}s", flush=True)
        finally:
            self.services.stop()
        self.report(time.time() - started)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _ = self.api.call("GET", "/bench/floor/", "no-such-token")
                if status == 401:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the web server did not start: see {OUT_DIR / 'web.log'}")
            time.sleep(0.2)
        self.noop_round_trip()

    def worker_warm_up(self) -> None:
        """Ready every worker process (its database connection, the tables a delivery touches), as a worker that has
        run a while is: the celebrity post, the first stage, would otherwise pay for the worker's start, which the
        COPY it is compared with does not."""
        from bench.tasks import bench_redis, warm_up

        key, tasks = f"bench:warm:{uuid.uuid4().hex}", 6  # three for each of the worker's two processes
        for _ in range(tasks):
            warm_up.delay(key)
        for _ in range(tasks):
            if bench_redis().blpop([key], timeout=60) is None:
                raise RuntimeError("the worker did not warm up")

    def machine(self) -> dict:
        from django.db import connection

        from bench.tasks import bench_redis

        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        )
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            pg = cursor.fetchone()[0]
        return dict(
            cpu=cpu,
            cores=os.cpu_count(),
            memory_gib=round(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30),
            load_average=os.getloadavg(),
            python=platform.python_version(),
            postgresql=pg,
            redis=bench_redis().info("server")["redis_version"],
        )

    def report(self, seconds: float) -> None:
        lines = [
            "| figure | value | baseline | ratio | target | met |",
            "|---|---|---|---|---|---|",
        ]
        for f in self.figures:
            baseline = f"{f.baseline:,.1f} ({f.baseline_name})" if f.baseline else f.baseline_name
            ratio = f"{f.ratio:.3f}x" if f.ratio is not None else ""
            met = {True: "met", False: "**not met**", None: "(reported)"}[f.met]
            lines.append(f"| {f.name} | {f.value:,.1f} {f.unit} | {baseline} | {ratio} | {f.target} | {met} |")
        table = "\n".join(lines)
        command = " ".join(["python -m bench.run", *sys.argv[1:]])
        result = dict(
            command=command,
            seconds=seconds,
            args=vars(self.args),
            machine=self.machine(),
            figures=[asdict(f) | {"ratio": f.ratio} for f in self.figures],
            notes=self.notes,
        )
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S")
        (OUT_DIR / f"results-{stamp}.json").write_text(json.dumps(result, indent=2, default=str))
        (OUT_DIR / f"results-{stamp}.md").write_text(table + "\n")
        print()
        print(table)
        print(f"\n{command}: {seconds:.0f}s; machine {json.dumps(result['machine'])}")
        print(f"details: {OUT_DIR / f'results-{stamp}.json'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--followers", type=int, default=100_000, help="celebrity post fan-out")
    parser.add_argument("--storm", type=int, default=20_000, help="concurrent link shares of one video")
    parser.add_argument("--latency", type=int, default=1000, help="shares timed from API answer to inbox")
    parser.add_argument("--latency-rate", type=float, default=20.0, help="shares per second in the latency run")
    parser.add_argument("--open-streams", type=int, default=50, help="followers holding their stream open")
    parser.add_argument("--depth-total", type=int, default=1_000_000, help="notifications in the table")
    parser.add_argument("--depth-user", type=int, default=100_000, help="notifications of the deep reader")
    parser.add_argument("--reads", type=int, default=1000, help="timed requests per read endpoint")
    parser.add_argument("--throughput-seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients")
    parser.add_argument("--copy-rounds", type=int, default=2, help="rounds of the COPY baselines (mean reported)")
    stages = "celebrity storm latency streams reads throughput"
    parser.add_argument("--only", nargs="*", default=[], help=f"stages: {stages}")
    Bench(parser.parse_args()).run()


if __name__ == "__main__":
    main()
