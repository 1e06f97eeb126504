"""DRF throttles that count in the shared cache and fail open: a cache (Redis) outage lets requests
through with a warning instead of turning every write into a 500."""

import logging

from redis.exceptions import RedisError
from rest_framework import throttling
from rest_framework.permissions import SAFE_METHODS

logger = logging.getLogger(__name__)


class FailOpenMixin:
    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError):
            logger.warning("throttle cache unavailable: %s not enforced", self.scope, exc_info=True)
            return True


class WriteRateThrottle(FailOpenMixin, throttling.UserRateThrottle):
    """Limits every write (POST, PUT, PATCH, DELETE) per user, or per address when anonymous; reads pass."""

    scope = "writes"

    def allow_request(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)


class ScopedRateThrottle(FailOpenMixin, throttling.ScopedRateThrottle):
    """Per-view limits (``throttle_scope``): logins and sign-ups per client address."""
