"""Benchmark settings: the product's own settings plus the peer library and the floor endpoints."""

from video_platform.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "notifications", "bench.apps.BenchConfig"]  # noqa: F405
ROOT_URLCONF = "bench.urls"
# Both libraries name their recipient's reverse accessor ``notifications``; no product code uses it.
SILENCED_SYSTEM_CHECKS = ["fields.E304", "fields.E305"]
