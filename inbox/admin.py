from django.contrib import admin, messages

from . import services
from .models import Event, EventChunk, Notification, UnreadCount


class NotificationInline(admin.TabularInline):
    model = Notification
    fields = ("recipient", "type", "actor", "count", "unread")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "actor", "video", "status", "notification_count", "attempts", "created_at",
                    "done_at")  # fmt: skip
    list_filter = ("status", "kind", "created_at")
    search_fields = ("actor__username",)
    raw_id_fields = ("actor", "video")
    list_select_related = ("actor", "video")
    readonly_fields = ("kind", "actor", "video", "payload", "created_at", "dispatched_at", "done_at", "attempts",
                       "notification_count", "chunk_bounds", "chunks_done", "error")  # fmt: skip
    date_hierarchy = "created_at"
    inlines = (NotificationInline,)
    actions = ("redispatch",)

    @admin.action(description="Re-dispatch selected pending or failed events")
    def redispatch(self, request, queryset):
        sent = services.events_redispatch(event_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"Re-dispatched {sent} event(s).", messages.SUCCESS)


@admin.register(EventChunk)
class EventChunkAdmin(admin.ModelAdmin):
    list_display = ("event", "index", "notification_count", "done_at")
    raw_id_fields = ("event",)
    readonly_fields = ("event", "index", "notification_count", "done_at")
    list_filter = ("done_at",)
    search_fields = ("event__id",)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("id", "recipient", "type", "category", "actor", "video", "count", "unread", "updated_at")
    list_filter = ("type", "category", "unread", "updated_at")
    search_fields = ("recipient__username",)
    raw_id_fields = ("recipient", "actor", "video", "conversation", "event")
    list_select_related = ("recipient", "actor", "video")
    readonly_fields = ("recipient", "type", "category", "actor", "video", "conversation", "event", "excerpt",
                       "count", "group_key", "created_at", "updated_at")  # fmt: skip
    date_hierarchy = "updated_at"
    actions = ("mark_read",)

    @admin.action(description="Mark selected notifications read")
    def mark_read(self, request, queryset):
        updated = queryset.update(unread=False, group_key=None)
        self.message_user(request, f"Marked {updated} notification(s) read.", messages.SUCCESS)


@admin.register(UnreadCount)
class UnreadCountAdmin(admin.ModelAdmin):
    """Kept by database triggers: browsable, never edited by hand."""

    list_display = ("recipient", "category", "count")
    list_filter = ("category",)
    search_fields = ("recipient__username",)
    readonly_fields = ("recipient", "category", "count")

    def has_add_permission(self, request):
        return False
