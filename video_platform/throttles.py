"""DRF throttles that count in the shared cache and fail open: a cache (Redis) outage lets requests
through with a warning instead of turning every write into a 500."""

import contextlib
import hashlib
import logging
from collections.abc import Mapping

from redis.exceptions import RedisError
from rest_framework import throttling
from rest_framework.permissions import SAFE_METHODS

from .usernames import username_normalise

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


class LoginFailuresThrottle(throttling.SimpleRateThrottle):
    """Failed logins per account (the normalised username) in fixed windows, whatever address they come from.

    Every attempt is counted before the password is checked (one atomic increment, so a burst of parallel
    guesses can't all slip under the limit) and a successful one is taken back: what remains are failures.
    ``LoginLimitBackend`` counts; as a DRF throttle on the token view it only answers 429 once the limit is hit.
    """

    scope = "login_failures"

    def username_key(self, username: str) -> str:
        digest = hashlib.sha256(username_normalise(username).encode()).hexdigest()[:32]
        return f"throttle_{self.scope}_{digest}_{int(self.timer()) // self.duration}"

    def get_cache_key(self, request, view):
        username = request.data.get("username") if isinstance(request.data, Mapping) else None
        return self.username_key(username) if isinstance(username, str) else None

    def allow_request(self, request, view):
        if self.rate is None or (key := self.get_cache_key(request, view)) is None:
            return True
        try:
            return self.cache.get(key, 0) < self.num_requests
        except (RedisError, OSError):
            logger.warning("throttle cache unavailable: %s not enforced", self.scope, exc_info=True)
            return True

    def wait(self):
        return self.duration - self.timer() % self.duration

    def attempt_reserve(self, username: str) -> bool:
        """Count one attempt at ``username``'s password; False when the account has no attempts left."""
        if self.rate is None:
            return True
        key = self.username_key(username)
        try:
            self.cache.add(key, 0, self.duration)
            return self.cache.incr(key) <= self.num_requests
        except (RedisError, OSError, ValueError):  # ValueError: the key expired between add and incr
            logger.warning("throttle cache unavailable: %s not enforced", self.scope, exc_info=True)
            return True

    def attempt_forgive(self, username: str) -> None:
        """Take back a counted attempt that turned out to be the right password."""
        if self.rate is None:
            return
        with contextlib.suppress(RedisError, OSError, ValueError):
            self.cache.decr(self.username_key(username))
