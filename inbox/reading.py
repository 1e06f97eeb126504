"""Read state: reading a notification closes its group; open streams get the new unread counts."""

from collections.abc import Iterable

from django.db import transaction

from .models import Notification
from .stream_log import stream_log_unread_count


def notification_mark_read(*, notification: Notification) -> None:
    """Reading a group closes it: the next share or like opens a new one."""
    notifications_mark_read(notification_ids=[notification.pk])


@transaction.atomic
def notifications_mark_read(*, notification_ids: Iterable[int]) -> int:
    """Mark these notifications read, closing their groups; open streams get the new unread counts."""
    unread = Notification.objects.filter(pk__in=list(notification_ids), unread=True)
    recipient_ids = set(unread.values_list("recipient_id", flat=True))
    marked = unread.update(unread=False, group_key=None)
    if marked:
        stream_log_unread_count(user_ids=recipient_ids)
    return marked


def notifications_mark_all_read(*, user, category: str | None = None) -> int:
    unread = Notification.objects.filter(recipient=user, unread=True)
    if category and category != "all":
        unread = unread.filter(category=category)
    with transaction.atomic():
        marked = unread.update(unread=False, group_key=None)
        if marked:
            stream_log_unread_count(user_ids=[user.pk])
    return marked
