"""Waiting for what happens in other processes by polling, never a fixed sleep.

Plain functions, not fixtures: module helpers and tests/fault_stack.py's deployment wait too."""

import time

from rest_framework.test import APIClient


def wait_until(condition, *, timeout: float, what: str, interval: float = 0.1):
    """Poll until ``condition()`` is truthy and return it; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout}s waiting for {what}")
        time.sleep(interval)


def wait_for_event(client: APIClient, event_id: int, timeout: float = 30.0) -> dict:
    """Wait for delivery the way a QA script does: poll the event's status.

    Answers the event once it is no longer ``pending``: ``done``, ``failed``, or ``held`` (fanned out, its
    anonymous shares waiting for the batch window until ``release_at``; POST /api/qa/release-held/ ends that).
    """

    def finished() -> dict | None:
        body = client.get(f"/api/events/{event_id}/").json()
        return body if body["status"] != "pending" else None

    return wait_until(finished, timeout=timeout, what=f"event {event_id} to leave pending", interval=0.05)
