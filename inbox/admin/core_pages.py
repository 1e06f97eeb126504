"""The social core's user and video pages, with what the inbox knows of them."""

import functools

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import BooleanField, Value
from django.utils.html import format_html

from inbox import selectors
from inbox.models import Notification
from video_platform.admin import (
    ShareloopUserAdmin,
    VideoAdmin,
    changelist_link,
    may_read_direct_messages,
    may_see_sharers,
    shown_sharers,
)
from video_platform.models import Video

from .display import (
    RECENT_INBOX_ROWS,
    notifications_table,
)

User = get_user_model()

admin.site.unregister(User)


@admin.register(User)
class InboxUserAdmin(ShareloopUserAdmin):
    """The social core's user page, with what this user's inbox shows them."""

    readonly_fields = (*ShareloopUserAdmin.readonly_fields, "unread_counts", "inbox", "inbox_without_message_text")

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        inbox = "inbox" if may_read_direct_messages(request) else "inbox_without_message_text"
        account, *rest = fieldsets
        return (account, ("Inbox: what this user sees", {"fields": ("unread_counts", inbox)}), *rest)

    def get_queryset(self, request):
        # The inbox table names a tagger or DM sharer only to staff who may see sharers.
        return (
            super().get_queryset(request).annotate(viewer_sees_sharers=Value(may_see_sharers(request), BooleanField()))
        )

    @admin.display(description="unread")
    def unread_counts(self, user):
        counts = selectors.inbox_unread_counts(user=user)
        label = functools.partial(selectors.unread_count_label, capped=counts["capped"])
        by_category = ", ".join(f"{name} {label(n)}" for name, n in counts["by_category"].items())
        return f"{label(counts['total'])} unread ({by_category})"

    def _inbox(self, user, *, with_message_text):
        recent = (
            Notification.objects.filter(recipient=user)
            .select_related("recipient", "actor")
            .order_by("-updated_at", "-id")[:RECENT_INBOX_ROWS]
        )
        table = notifications_table(
            recent,
            with_message_text=with_message_text,
            with_sharers=shown_sharers(user),
            recipient_column=False,
        )
        every = changelist_link(Notification, "all their notifications", recipient__id__exact=user.pk)
        return format_html("{}<p>Latest {} first. {}</p>", table, RECENT_INBOX_ROWS, every)

    @admin.display(description="recent notifications")
    def inbox(self, user):
        return self._inbox(user, with_message_text=True)

    @admin.display(description="recent notifications")
    def inbox_without_message_text(self, user):
        return self._inbox(user, with_message_text=False)


admin.site.unregister(Video)


@admin.register(Video)
class InboxVideoAdmin(VideoAdmin):
    def related_links(self, video) -> list[str]:
        notifications = changelist_link(Notification, "notifications about it", video__id__exact=video.pk)
        return [*super().related_links(video), notifications]
