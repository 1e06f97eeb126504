"""A private Shareloop deployment for fault tests: its own redis-server, gunicorn, workers and beat,
all real processes on the test database, each of which a test may kill and restart.

Every process is started in its own session, so killing one (or what is left of one) goes by the
process id or process group id this helper recorded, never by name.
"""

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

from .waiting import wait_until

ROOT = Path(__file__).resolve().parent.parent
WORKER_APPLICATION_NAME = "shareloop-fault-worker"

# Outside CI a machine without PostgreSQL or redis-server skips these tests; in CI they must run (or fail).
needs_fault_stack = pytest.mark.skipif(
    os.environ.get("CI") != "true"
    and (not os.environ.get("DATABASE_URL", "").startswith("postgres") or not shutil.which("redis-server")),
    reason="fault tests need PostgreSQL (DATABASE_URL) and a redis-server binary",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def children_of(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The command name sits in parentheses and may contain spaces: split after the last one.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            children.append(int(entry.name))
    return children


@dataclass
class Worker:
    name: str
    process: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def ready(self) -> bool:
        return self.log.exists() and " ready." in self.log.read_text(errors="replace")

    def pool_children(self) -> list[int]:
        return children_of(self.pid)


@dataclass
class FaultStack:
    directory: Path
    database_url: str
    redis_port: int
    extra_env: dict = field(default_factory=dict)
    processes: list = field(default_factory=list)
    redis_process: subprocess.Popen | None = None
    web_url: str = ""
    workers: list = field(default_factory=list)

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def env(self, **overrides) -> dict:
        return (
            os.environ
            | {
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis_url,
                "SECRET_KEY": os.environ.get("SECRET_KEY") or "fault-stack-only-not-a-secret",
                "DEBUG": "0",
                "DEMO_MODE": "0",
                "HTTPS_ONLY": "0",
                # Short enough for a test to see redelivery and sweeping happen.
                "CELERY_VISIBILITY_TIMEOUT": "4",
                "CELERY_UNACKED_RESTORE_INTERVAL": "1",
                "EVENT_REDISPATCH_AFTER_SECONDS": "2",
                "SWEEP_INTERVAL_SECONDS": "1",
                "POST_FAN_OUT_CHUNK_SIZE": "200",
                "SHARE_NOTIFICATION_BATCH_SECONDS": "0",
                "THROTTLE_RATE_WRITES": "1000000/hour",
                "THROTTLE_RATE_LOGIN": "1000000/hour",
                "THROTTLE_RATE_SIGNUP": "1000000/hour",
                "LOG_LEVEL": "INFO",
            }
            | self.extra_env
            | overrides
        )

    def _spawn(self, args: list[str], log: Path, env: dict) -> subprocess.Popen:
        with open(log, "ab") as out:
            process = subprocess.Popen(
                args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.processes.append(process)
        return process

    def start_redis(self) -> None:
        self.redis_process = self._spawn(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no"],
            self.directory / "redis.log",
            dict(os.environ),
        )  # fmt: skip  # a command line, one flag and its value together
        wait_until(self._redis_answers, timeout=20, what=f"redis-server on port {self.redis_port}")

    def _redis_answers(self) -> bool:
        try:
            return redis.Redis.from_url(self.redis_url, socket_connect_timeout=1).ping()
        except redis.ConnectionError:
            return False

    def kill_redis(self) -> None:
        self.redis_process.send_signal(signal.SIGKILL)
        self.redis_process.wait(timeout=10)

    def broker(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url)

    def broker_idle(self) -> bool:
        """No task waiting in the queue and none delivered but unacknowledged."""
        client = self.broker()
        return client.llen("celery") == 0 and client.hlen("unacked") == 0

    def describe_broker(self) -> str:
        try:
            client = self.broker()
            unacked = client.zrange("unacked_index", 0, -1, withscores=True)
            return f"queue: {client.llen('celery')} waiting, unacked: {client.hlen('unacked')} {unacked[:5]}"
        except redis.RedisError as error:
            return f"broker unreachable: {error}"

    def describe_workers(self, lines: int = 15) -> str:
        """Each worker started: running or its exit code, and the last lines it logged."""
        described = []
        for worker in self.workers:
            code = worker.process.poll()
            tail = worker.log.read_text(errors="replace").splitlines()[-lines:] if worker.log.exists() else []
            state = "running" if code is None else f"exited with {code}"
            described.append(f"worker {worker.name} {state}, last lines:\n" + "\n".join(tail))
        return "\n".join(described)

    def start_web(self) -> str:
        port = free_port()
        self._spawn(
            [sys.executable, "-m", "gunicorn", "video_platform.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--threads", "8", "--timeout", "60", "--no-control-socket"],
            self.directory / "web.log",
            self.env(),
        )  # fmt: skip  # a command line, one flag and its value together
        self.web_url = f"http://127.0.0.1:{port}"
        wait_until(self._web_answers, timeout=60, what="gunicorn to answer")
        return self.web_url

    def _web_answers(self) -> bool:
        try:
            urllib.request.urlopen(f"{self.web_url}/api/me/", timeout=2)
        except urllib.error.HTTPError as error:
            return error.code == 401
        except OSError:
            return False
        return False

    def start_worker(self, *, concurrency: int = 2, wait: bool = True) -> Worker:
        name = f"fault{len(self.workers) + 1}-{os.getpid()}"
        log = self.directory / f"{name}.log"
        database_url = f"{self.database_url}?application_name={WORKER_APPLICATION_NAME}"
        process = self._spawn(
            [sys.executable, "-m", "celery", "-A", "video_platform", "worker", "--concurrency", str(concurrency),
             "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "-n", f"{name}@%h"],
            log,
            self.env(DATABASE_URL=database_url),
        )  # fmt: skip  # a command line, one flag and its value together
        worker = Worker(name=name, process=process, log=log)
        self.workers.append(worker)
        if wait:
            wait_until(lambda: worker.ready() or process.poll() is not None, timeout=90, what=f"worker {name}")
            assert process.poll() is None, log.read_text()
        return worker

    def start_beat(self) -> subprocess.Popen:
        return self._spawn(
            [sys.executable, "-m", "celery", "-A", "video_platform", "beat", "--loglevel", "INFO",
             "--schedule", str(self.directory / "beat-schedule")],
            self.directory / "beat.log",
            self.env(),
        )  # fmt: skip  # a command line, one flag and its value together

    def kill_group(self, process: subprocess.Popen) -> None:
        """SIGKILL a process and everything it started (its session's process group)."""
        if process_group_alive(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def kill_worker_child(self, worker: Worker, rng: random.Random) -> bool:
        children = worker.pool_children()
        if not children:
            return False
        os.kill(rng.choice(children), signal.SIGKILL)
        return True

    def kill_worker_parent(self, worker: Worker) -> None:
        """SIGKILL the worker's main process; its orphaned pool children are killed right after."""
        worker.process.send_signal(signal.SIGKILL)
        worker.process.wait(timeout=10)
        time.sleep(0.2)
        if process_group_alive(worker.pid):
            os.killpg(worker.pid, signal.SIGKILL)

    def close(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for process in reversed(self.processes):
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=15)
            if process_group_alive(process.pid):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


class ApiUser:
    """Acts through the deployed API over HTTP with a token, as a QA script would."""

    def __init__(self, base_url: str, token: str):
        self.base_url, self.token = base_url, token

    def request(self, method: str, path: str, data: dict | None = None) -> tuple[int, dict]:
        body = json.dumps(data).encode() if data is not None else None
        request = urllib.request.Request(
            self.base_url + path,
            data=body,
            method=method,
            headers={"Authorization": f"Token {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, {"raw": error.read().decode(errors="replace")}

    def post(self, path: str, data: dict | None = None) -> tuple[int, dict]:
        return self.request("POST", path, data or {})


@pytest.fixture
def stack(transactional_db, database_url, request):
    """A private deployment on the test database; every process it started is stopped afterwards."""
    from django.conf import settings

    directory = Path(settings.VAR_DIR) / "faults" / request.node.name
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    deployment = FaultStack(
        directory=directory,
        database_url=database_url,
        redis_port=int(os.environ.get("FAULT_REDIS_PORT", "6391")),
    )
    deployment.start_redis()
    yield deployment
    deployment.close()
