"""Inbox rows and the stream log: browsable, never edited by hand."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.html import format_html

from inbox import policy, reading
from inbox.models import HeldShare, InboxStream, Notification, StreamEntry
from video_platform.admin import (
    changelist_link,
    may_read_direct_messages,
    shown_sharers,
)
from video_platform.models import Event

from .display import (
    NAMES_A_SHARER,
    SharerWithheldAdmin,
    actor_cell,
    group_cell,
    notification_text,
)


@admin.register(Notification)
class NotificationAdmin(SharerWithheldAdmin):
    sharer_rows = NAMES_A_SHARER
    list_display = (
        "id",
        "recipient",
        "type",
        "actor_shown",
        "video",
        "count",
        "unread",
        "group",
        "event_link",
        "updated_at",
    )
    list_filter = ("type", "category", "unread", "updated_at")
    search_fields = ("=id", "recipient__username", "actor__username")
    list_select_related = ("recipient", "actor__profile", "video")  # what actor_shown renders
    date_hierarchy = "updated_at"
    show_full_result_count = False  # One count query fewer on the biggest table.
    actions = ("mark_read",)
    readonly_fields = (
        "recipient",
        "type",
        "category",
        "actor_shown",
        "video",
        "conversation",
        "event_link",
        "text",
        "text_without_message_text",
        "excerpt",
        "count",
        "unread",
        "group",
        "created_at",
        "updated_at",
    )

    def get_fields(self, request, obj=None):
        with_text = may_read_direct_messages(request)
        return (
            "recipient",
            "type",
            "category",
            "actor_shown",
            "video",
            "conversation",
            "event_link",
            "text" if with_text else "text_without_message_text",
            *(("excerpt",) if with_text else ()),
            "count",
            "unread",
            "group",
            "created_at",
            "updated_at",
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # Delivered notifications are never edited by hand; marking read is an action.

    def has_mark_read_permission(self, request):
        return request.user.has_perm("inbox.change_notification")

    @admin.action(description="Mark selected notifications read (closes their groups)", permissions=("mark_read",))
    def mark_read(self, request, queryset: QuerySet):
        selected = list(queryset.values_list("pk", flat=True))
        marked = reading.notifications_mark_read(notification_ids=selected)
        self.message_user(
            request,
            f"Marked {marked} notification(s) read; {len(selected) - marked} already read. Open groups among them "
            "are closed: the next share or like starts a new one.",
            messages.SUCCESS,
        )

    @admin.display(description="actor")
    def actor_shown(self, notification):
        return actor_cell(notification, with_sharers=shown_sharers(notification))

    @admin.display(description="group")
    def group(self, notification):
        return group_cell(notification)

    @admin.display(description="event", ordering="event_id")
    def event_link(self, notification):
        if notification.event_id:
            url = reverse("admin:platform_event_change", args=[notification.event_id])
            return format_html('<a href="{}">event #{}</a>', url, notification.event_id)
        if policy.is_grouped(notification.type) and notification.video_id:
            return changelist_link(
                Event,
                f"grouped: bumped by {notification.type} events on this video",
                video__id__exact=notification.video_id,
                kind__exact=notification.type,
            )
        return "—"

    @admin.display(description="what the recipient sees")
    def text(self, notification):
        return notification_text(notification, with_message_text=True, with_sharers=shown_sharers(notification))

    @admin.display(description="what the recipient sees")
    def text_without_message_text(self, notification):
        return notification_text(notification, with_message_text=False, with_sharers=shown_sharers(notification))


@admin.register(InboxStream)
class InboxStreamAdmin(admin.ModelAdmin):
    """Each user's live-stream sequence (the id the next SSE message gets) and until when their log is written."""

    list_display = ("user", "last_seq", "present_from_seq", "present_until")
    search_fields = ("user__username",)
    list_select_related = ("user",)
    readonly_fields = list_display  # written by delivery and by watching, never by hand


@admin.register(StreamEntry)
class StreamEntryAdmin(admin.ModelAdmin):
    """The per-user stream log that `Last-Event-ID` replays from; written by delivery, never by hand."""

    list_display = ("recipient", "seq", "kind", "notification", "created_at")
    list_filter = ("kind", "created_at")
    search_fields = ("recipient__username",)
    list_select_related = ("recipient", "notification")
    raw_id_fields = ("recipient", "notification")
    readonly_fields = ("recipient", "seq", "kind", "notification", "created_at")
    date_hierarchy = "created_at"


@admin.register(HeldShare)
class HeldShareAdmin(admin.ModelAdmin):
    list_display = ("id", "recipient", "type", "event", "held_at")
    list_filter = ("type", "held_at")
    search_fields = ("recipient__username",)
    raw_id_fields = ("recipient", "event")
    list_select_related = ("recipient", "event")
    readonly_fields = ("recipient", "type", "event", "held_at")
