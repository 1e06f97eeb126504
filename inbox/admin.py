"""Operator views of delivery: events, what each produced and why, inbox rows, and the health overview.

Staff may see who did what here; the privacy rule still decides what a recipient was shown, and every
"actor" cell says when the recipient's notification hides it. Who shared a video is shown only to staff who
may open shares (superusers and admins): Support and Moderator see share counts, never a sharer.
"""

import functools
from datetime import timedelta

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Q, QuerySet, Value
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from video_platform.actions import ActionKind
from video_platform.admin import (
    ShareloopUserAdmin,
    VideoAdmin,
    admin_link,
    changelist_link,
    html_table,
    may_read_direct_messages,
    may_see_sharers,
    shown_sharers,
)
from video_platform.models import Event, EventStatus, Video
from video_platform.notification_types import NotificationType

from . import dispatch, policy, reading, rendering, selectors
from .models import EventChunk, HeldShare, InboxStream, Notification, StreamEntry

User = get_user_model()
# The newest notifications a user's admin page lists.
RECENT_INBOX_ROWS = 20

# Direct-message text (message notifications' excerpts, message events' payloads) is shown only to
# staff who may open conversations (may_read_direct_messages): Support may not.
WITHHELD = "(withheld: direct message text)"
SHARER_WITHHELD = "withheld (a sharer: shown to staff with access to shares only)"
# Inspection tables on change pages stop here and link to the full, paginated changelist.
INSPECTION_ROWS = 50

admin.site.site_header = "Shareloop operations"
admin.site.site_title = "Shareloop admin"
admin.site.index_template = "admin/shareloop_index.html"


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


@admin.register(Event)
class EventAdmin(SharerWithheldAdmin):
    sharer_rows = Q(kind=ActionKind.SHARE)
    list_display = (
        "id",
        "kind",
        "actor",
        "video",
        "status",
        "notification_count",
        "attempts",
        "created_at",
        "duration",
    )
    list_filter = ("status", "kind", "created_at")
    search_fields = ("=id", "actor__username")
    list_select_related = ("actor", "video")
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ("redispatch",)
    readonly_fields = (
        "kind",
        "actor",
        "actor_unless_sharer",
        "video",
        "action_summary",
        "payload",
        "payload_without_message_text",
        "status",
        "error",
        "timing",
        "attempts",
        "notification_count",
        "chunk_progress",
        "produced_notifications",
        "produced_notifications_without_message_text",
        "bumped_groups",
        "audience",
    )

    def get_list_display(self, request):
        if may_see_sharers(request):
            return self.list_display
        return tuple("actor_unless_sharer" if name == "actor" else name for name in self.list_display)

    def get_fieldsets(self, request, obj=None):
        with_text = may_read_direct_messages(request)
        actor = "actor" if may_see_sharers(request) else "actor_unless_sharer"
        return (
            (
                "Action (staff only: the actor is shown here even when recipients never see it)",
                {
                    "fields": (
                        "kind",
                        actor,
                        "video",
                        "action_summary",
                        "payload" if with_text else "payload_without_message_text",
                    ),
                },
            ),
            (
                "Delivery",
                {
                    "fields": ("status", "error", "timing", "attempts", "notification_count", "chunk_progress"),
                },
            ),
            (
                "What it produced",
                {
                    "fields": (
                        "produced_notifications" if with_text else "produced_notifications_without_message_text",
                        "bumped_groups",
                        "audience",
                    ),
                },
            ),
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # Events are facts; the re-dispatch action is the only way to act on them.

    def has_redispatch_permission(self, request):
        return request.user.has_perm("platform.change_event")

    @admin.action(description="Re-dispatch selected pending or failed events", permissions=("redispatch",))
    def redispatch(self, request, queryset):
        selected = list(queryset.values_list("pk", "status"))
        eligible = [pk for pk, status in selected if status in (EventStatus.PENDING, EventStatus.FAILED)]
        sent = dispatch.events_redispatch(event_ids=eligible)
        skipped = len(selected) - len(eligible)
        text = f"Re-dispatched {sent} event(s) to the workers (failed ones set back to pending)."
        if skipped:
            text += f" Skipped {skipped} already done."
        self.message_user(request, text, messages.SUCCESS if sent else messages.WARNING)

    @admin.display(description="actor")
    def actor_unless_sharer(self, event):
        if event.kind == ActionKind.SHARE and not shown_sharers(event):
            return SHARER_WITHHELD
        return admin_link(event.actor)

    @admin.display(description="duration")
    def duration(self, event):
        return duration_text(event)

    @admin.display(description="timing")
    def timing(self, event):
        def at(moment):
            return f"{moment:%Y-%m-%d %H:%M:%S.%f}"[:-3] + " UTC"

        rows = [
            ("written", at(event.created_at)),
            ("last dispatched", f"{at(event.dispatched_at)} (attempt {event.attempts})"),
            ("done", at(event.done_at) if event.done_at else "not yet"),
            ("duration", duration_text(event)),
        ]
        return format_html_join("", "<div><strong>{}</strong>: {}</div>", rows)

    @admin.display(description="summary")
    def action_summary(self, event):
        action = event.action
        people = action.tagged | action.recipients | action.mentioned | {action.followee_id} - {None}
        names = dict(User.objects.filter(pk__in=people).values_list("pk", "username"))

        def usernames(ids):
            return ", ".join(f"@{names.get(pk, pk)}" for pk in sorted(ids))

        lines = [
            ("channel", action.channel),
            ("tagged", usernames(action.tagged)),
            ("DM recipients", usernames(action.recipients)),
            ("mentioned", usernames(action.mentioned)),
            ("followee", usernames({action.followee_id} - {None})),
        ]
        return format_html_join("", "<div><strong>{}</strong>: {}</div>", ((k, v) for k, v in lines if v)) or "—"

    @admin.display(description="payload")
    def payload_without_message_text(self, event):
        payload = dict(event.payload)
        if event.kind == ActionKind.MESSAGE or payload.get("channel") == "dm":
            payload["text"] = WITHHELD
        return payload

    @admin.display(description="post fan-out chunks")
    def chunk_progress(self, event):
        if event.chunk_bounds is None:
            return "not a chunked fan-out"
        return changelist_link(
            EventChunk, f"{event.chunks_done} of {len(event.chunk_bounds)} chunks done", event__id__exact=event.pk
        )

    def _produced(self, event, *, with_message_text):
        total = event.notifications.count()
        if not total:
            return "none of its own (grouped rows are below)"
        rows = event.notifications.select_related("recipient", "actor").order_by("recipient_id")[:INSPECTION_ROWS]
        table = notifications_table(rows, with_message_text=with_message_text, with_sharers=shown_sharers(event))
        more = changelist_link(Notification, f"all {total} in the notification list", event__id__exact=event.pk)
        return format_html("{}<p>{}</p>", table, more)

    @admin.display(description="notifications it created")
    def produced_notifications(self, event):
        return self._produced(event, with_message_text=True)

    @admin.display(description="notifications it created")
    def produced_notifications_without_message_text(self, event):
        return self._produced(event, with_message_text=False)

    @admin.display(description="group rows it bumped (matched, not recorded)")
    def bumped_groups(self, event):
        rows = selectors.event_expected_group_rows(event=event)
        note = (
            "Grouped share and like rows keep no event (many events bump one row). These are the rows of the "
            "same recipient, type and video that were open while this event was delivered."
        )
        if not rows:
            return format_html("<p>none</p><p><em>{}</em></p>", note)
        table = notifications_table(rows, with_message_text=False, with_sharers=shown_sharers(event))
        return format_html("{}<p><em>{}</em></p>", table, note)

    @admin.display(description="audience per inbox.policy")
    def audience(self, event):
        verdicts = selectors.event_audience(event=event)
        users = User.objects.in_bulk([v.delivery.recipient_id for v in verdicts])
        rows = [
            (
                admin_link(users.get(v.delivery.recipient_id)),
                v.delivery.type,
                "shown" if v.delivery.shows_actor else "hidden (anonymous)",
                "delivered" if v.delivered else f"left out: {v.left_out_because}",
            )
            for v in verdicts
        ]
        note = "Judged by today's blocks and mutes. Nobody is notified of their own action."
        if event.kind == ActionKind.POST:
            note += " A post's followers are reached by the chunked fan-out and not listed here."
        table = html_table(["recipient", "type", "actor", "outcome"], rows) if rows else "nobody"
        return format_html("{}<p><em>{}</em></p>", table, note)

    def get_urls(self):
        return [
            path("overview/", self.admin_site.admin_view(self.overview_view), name="inbox_overview"),
            path(
                "<path:object_id>/redispatch/",
                self.admin_site.admin_view(self.redispatch_view),
                name="platform_event_redispatch",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        event = self.get_object(request, object_id)
        stuck = event is not None and event.status in (EventStatus.PENDING, EventStatus.FAILED)
        extra_context = {**(extra_context or {}), "may_redispatch": stuck and self.has_redispatch_permission(request)}
        return super().change_view(request, object_id, form_url, extra_context)

    def redispatch_view(self, request, object_id):
        """The change page's button: the re-dispatch action for this one event."""
        if request.method != "POST" or not self.has_redispatch_permission(request):
            raise PermissionDenied
        event = self.get_object(request, object_id)
        if event is None:
            raise Http404
        self.redispatch(request, Event.objects.filter(pk=event.pk))
        return redirect("admin:platform_event_change", event.pk)

    def overview_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        since = timezone.now() - timedelta(hours=1)
        context = {
            **self.admin_site.each_context(request),
            "title": "Delivery overview",
            "opts": self.opts,
            "since": since,
            "health": selectors.delivery_health(since=since),
            "heartbeat": selectors.worker_heartbeat(),
            "changelist_url": reverse("admin:platform_event_changelist"),
        }
        return TemplateResponse(request, "admin/inbox/overview.html", context)


@admin.register(EventChunk)
class EventChunkAdmin(admin.ModelAdmin):
    list_display = ("event", "index", "notification_count", "done_at")
    list_filter = ("done_at",)
    search_fields = ("=event__id",)
    list_select_related = ("event",)
    readonly_fields = ("event", "index", "notification_count", "done_at")
    date_hierarchy = "done_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


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
    """Each user's live-stream sequence: the id the next SSE message gets."""

    list_display = ("user", "last_seq")
    search_fields = ("user__username",)
    list_select_related = ("user",)
    readonly_fields = ("user", "last_seq")


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
