"""Events (the outbox) as the fan-out saw them: what each produced, who it left out and why, re-dispatch,
and the delivery overview."""

from datetime import timedelta

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from inbox import dispatch, selectors
from inbox.models import EventChunk, Notification
from video_platform.actions import ActionKind
from video_platform.admin import (
    admin_link,
    changelist_link,
    html_table,
    may_read_direct_messages,
    may_see_sharers,
    shown_sharers,
)
from video_platform.models import Event, EventStatus

from .display import (
    INSPECTION_ROWS,
    SHARER_WITHHELD,
    WITHHELD,
    SharerWithheldAdmin,
    duration_text,
    notifications_table,
)

User = get_user_model()


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
