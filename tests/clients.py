"""The API as a client sees it: a DRF test client signed in as a user.

A plain function, not a fixture: module helpers (``post``, ``inbox``, ``act`` …) build clients too."""

from rest_framework.test import APIClient


def api_client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client
