"""Reads of the inbox."""

from django.db.models import Count, QuerySet

from .models import Event, Notification
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
    rows = (
        Notification.objects.filter(recipient=user, unread=True)
        .values_list("category")
        .annotate(n=Count("id"))
        .order_by()
    )
    by_category = dict.fromkeys(CATEGORIES, 0) | dict(rows)
    return {"total": sum(by_category.values()), "by_category": by_category}


def events_visible(*, user) -> QuerySet:
    """An event is visible to its actor and to staff only."""
    events = Event.objects.all()
    return events if user.is_staff else events.filter(actor=user)
