"""Serve the ASGI app with uvicorn, believing X-Forwarded-For/-Proto only from FORWARDED_ALLOW_IPS."""

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand


def proxy_options() -> dict:
    """uvicorn trusts forwarded headers from 127.0.0.1 by default, so anyone on the host (or behind a proxy
    passing the header through) could choose their client address; here only configured proxies are believed."""
    if not settings.FORWARDED_ALLOW_IPS:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": settings.FORWARDED_ALLOW_IPS}


class Command(BaseCommand):
    help = "Serve the web app (ASGI, uvicorn); forwarded headers are trusted only from FORWARDED_ALLOW_IPS."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])

    def handle(self, *args, host, port, log_level, **options):
        uvicorn.run(
            "video_platform.asgi:application",
            host=host,
            port=port,
            log_level=log_level,
            timeout_graceful_shutdown=3,  # open inbox streams must not hold up a stop
            **proxy_options(),
        )
