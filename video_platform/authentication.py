"""The one authentication backend: Django's ModelBackend, reached by the normalised username and limited in
failed logins per account. The API, the login page and the admin all authenticate here, so no login path
and no client address (forged or real) buys more guesses at one password."""

from django.contrib.auth.backends import ModelBackend

from .throttles import LoginFailuresThrottle
from .usernames import username_normalise


class LoginLimitBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if not isinstance(username, str) or password is None:
            return None
        username = username_normalise(username)
        failures = LoginFailuresThrottle()
        if not failures.attempt_reserve(username):
            return None
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None:
            failures.attempt_forgive(username)
        return user
