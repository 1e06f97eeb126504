"""The share batch window in force now.

Production takes it from settings (SHARE_NOTIFICATION_BATCH_SECONDS). In DEMO_MODE a presenter can turn
batching on and off from the inbox page, so the window is read from the database, which the web server
and the worker share, whenever one was chosen.
"""

from django.conf import settings
from django.db import transaction

from .models import ShareBatchWindow

# The window a presenter can switch on: short enough to wait for in front of an audience.
DEMO_BATCH_SECONDS = 30


def share_batch_seconds() -> int:
    if settings.DEMO_MODE:
        chosen = ShareBatchWindow.objects.filter(pk=1).values_list("seconds", flat=True).first()
        if chosen is not None:
            return chosen
    return settings.SHARE_NOTIFICATION_BATCH_SECONDS


@transaction.atomic
def share_batch_seconds_set(*, seconds: int) -> ShareBatchWindow:
    """DEMO_MODE only: choose the window (0 turns batching off; held shares go out at the next release)."""
    if not settings.DEMO_MODE:
        raise PermissionError("The share batch window can be changed at runtime only in DEMO_MODE.")
    window, _ = ShareBatchWindow.objects.update_or_create(pk=1, defaults={"seconds": seconds})
    return window
