"""How staff see a notification or an event: its cells and tables, with what each viewer may not see
withheld (direct-message text, sharers)."""

from django.contrib import admin
from django.db.models import BooleanField, Q, Value
from django.utils import timezone
from django.utils.html import format_html

from inbox import policy, rendering
from inbox.models import Notification
from video_platform.admin import (
    admin_link,
    html_table,
    may_see_sharers,
)
from video_platform.models import Event
from video_platform.notification_types import NotificationType

# The newest notifications a user's admin page lists.
RECENT_INBOX_ROWS = 20

# Direct-message text (message notifications' excerpts, message events' payloads) is shown only to
# staff who may open conversations (may_read_direct_messages): Support may not.
WITHHELD = "(withheld: direct message text)"
SHARER_WITHHELD = "withheld (a sharer: shown to staff with access to shares only)"
# Inspection tables on change pages stop here and link to the full, paginated changelist.
INSPECTION_ROWS = 50

# Notifications that show their recipient a sharer: a tag, and a message carrying a video (a DM share).
NAMES_A_SHARER = Q(type=NotificationType.TAG) | Q(type=NotificationType.MESSAGE, video__isnull=False)


def names_a_sharer(notification: Notification) -> bool:
    return notification.type == NotificationType.TAG or (
        notification.type == NotificationType.MESSAGE and notification.video_id is not None
    )


class SharerWithheldAdmin(admin.ModelAdmin):
    """For staff who may not see sharers, rows that would name one (``sharer_rows``) hide their actor, and no
    search or filter on the actor finds them. Rows carry ``viewer_sees_sharers`` for the display methods."""

    sharer_rows: Q

    def get_queryset(self, request):
        sees_sharers = may_see_sharers(request)
        rows = super().get_queryset(request).annotate(viewer_sees_sharers=Value(sees_sharers, BooleanField()))
        if not sees_sharers and any(key.startswith("actor") for key in request.GET):
            rows = rows.exclude(self.sharer_rows)  # "events they caused" must not list their shares
        return rows

    def get_search_fields(self, request):
        fields = super().get_search_fields(request)
        if getattr(request, "searching_without_actor", False):
            return [field for field in fields if not field.lstrip("=^@").startswith("actor")]
        return fields

    def get_search_results(self, request, queryset, search_term):
        if not search_term or may_see_sharers(request):
            return super().get_search_results(request, queryset, search_term)
        found, duplicates = super().get_search_results(request, queryset.exclude(self.sharer_rows), search_term)
        request.searching_without_actor = True
        try:
            if self.get_search_fields(request):
                sharer_rows, more = super().get_search_results(request, queryset.filter(self.sharer_rows), search_term)
            else:
                sharer_rows, more = queryset.none(), False
        finally:
            request.searching_without_actor = False
        return found | sharer_rows, duplicates or more


def actor_cell(notification: Notification, *, with_sharers: bool, row: rendering.NotificationRow | None = None) -> str:
    """The actor as staff see it, saying when the recipient's notification hides it or the viewer may not see it.

    ``row``: the notification's row of rendering.NOTIFICATION_ROW when read already; else built from the instance.
    """
    shown = rendering.notification_render(row or rendering.notification_row(notification))
    if shown.anonymous:
        return format_html('<span title="{}">hidden (anonymous)</span>', "The recipient is never shown who did this")
    if not with_sharers and names_a_sharer(notification):
        return SHARER_WITHHELD
    return admin_link(notification.actor) if shown.actor else "—"


def group_cell(notification: Notification) -> str:
    if not policy.is_grouped(notification.type):
        return "not grouped"
    return f"open group {notification.group_key}" if notification.group_key else "closed group (read)"


def notification_text(
    notification: Notification,
    *,
    with_message_text: bool,
    with_sharers: bool,
    row: rendering.NotificationRow | None = None,
) -> str:
    """The line the recipient's inbox shows, without direct-message text or a sharer for staff who may not see them.

    ``row``: as for actor_cell. Withholding takes columns out of the row; the renderer words what is left.
    """
    row = dict(row or rendering.notification_row(notification))
    if not with_sharers and names_a_sharer(notification):
        row |= {"actor__username": None, "actor__profile__display_name": None}
    if notification.type == NotificationType.MESSAGE and not with_message_text:
        row["excerpt"] = ""
    return rendering.notification_render(row).text


def notifications_table(
    notifications, *, with_message_text: bool, with_sharers: bool, recipient_column: bool = True
) -> str:
    headers = ["#", "recipient", "type", "actor", "text", "count", "unread", "group", "updated"]
    notifications = list(notifications)
    # What each recipient sees is rendered from their inbox's own rows: one query for the table, not one per row.
    shown = Notification.objects.filter(pk__in=[n.pk for n in notifications]).values(*rendering.NOTIFICATION_ROW)
    row_of = {row["id"]: row for row in shown}
    rows = [
        [
            admin_link(n, n.pk),
            admin_link(n.recipient),
            n.type,
            actor_cell(n, with_sharers=with_sharers, row=row_of[n.pk]),
            notification_text(n, with_message_text=with_message_text, with_sharers=with_sharers, row=row_of[n.pk]),
            n.count,
            "yes" if n.unread else "no",
            group_cell(n),
            n.updated_at.strftime("%Y-%m-%d %H:%M:%S"),
        ]
        for n in notifications
    ]
    if not recipient_column:
        headers.pop(1)
        for row in rows:
            row.pop(1)
    return html_table(headers, rows) if rows else "none"


def duration_text(event: Event) -> str:
    if event.done_at:
        return f"{(event.done_at - event.created_at).total_seconds():.3f} s"
    return f"not done after {(timezone.now() - event.created_at).total_seconds():.0f} s"
