"""Reads of the inbox."""

from django.db.models import QuerySet

from .models import Event, Notification, UnreadCount
from .policy import CATEGORIES


def inbox_notifications(*, user, category: str | None = None, unread: bool | None = None) -> QuerySet:
    notifications = Notification.objects.filter(recipient=user).select_related(
        "actor__profile", "video"
    )
    if category and category != "all":
        notifications = notifications.filter(category=category)
    if unread is not None:
        notifications = notifications.filter(unread=unread)
    return notifications


def inbox_unread_counts(*, user) -> dict:
    """Read from the trigger-maintained counters: constant time however deep the inbox is."""
    rows = UnreadCount.objects.filter(recipient=user).values_list("category", "count")
    by_category = dict.fromkeys(CATEGORIES, 0) | dict(rows)
    return {"total": sum(by_category.values()), "by_category": by_category}


def events_visible(*, user) -> QuerySet:
    """An event is visible to its actor and to staff only."""
    events = Event.objects.all()
    return events if user.is_staff else events.filter(actor=user)
