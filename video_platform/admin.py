"""Operator views of the social core. Rows that user actions create (with their events and counters) are
view-only here: editing them by hand would bypass the services; moderation is hiding, and blocks."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Count, Prefetch
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from . import services
from .models import (
    Block,
    Comment,
    Conversation,
    Event,
    Follow,
    FollowedPair,
    Like,
    LikedPair,
    Message,
    Profile,
    ProfileView,
    Share,
    ShareChannel,
    Video,
    VideoView,
)

User = get_user_model()
# Direct-message text (message notifications' excerpts, message events' payloads) is shown only to
# staff who may open conversations: Support may not.
DIRECT_MESSAGES_PERMISSION = "platform.view_message"
# Who shared what is shown only to staff who may open shares; Support and Moderator may not.
SHARES_PERMISSION = "platform.view_share"
RECENT_SHARE_ROWS = 50


def may_read_direct_messages(request) -> bool:
    return request.user.has_perm(DIRECT_MESSAGES_PERMISSION)


def may_see_sharers(request) -> bool:
    return request.user.has_perm(SHARES_PERMISSION)


def shown_sharers(row) -> bool:
    """Whether the staff member viewing this admin row may see sharers (a row of SharerWithheldAdmin)."""
    return getattr(row, "viewer_sees_sharers", False)


def admin_link(obj, label=None) -> str:
    if obj is None:
        return "—"
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, obj if label is None else label)


def changelist_link(model, label: str, **filters) -> str:
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return format_html('<a href="{}?{}">{}</a>', url, urlencode(filters), label)


def html_table(headers, rows) -> str:
    head = format_html_join("", "<th>{}</th>", ((h,) for h in headers))
    cells = (format_html_join("", "<td>{}</td>", ((cell,) for cell in row)) for row in rows)
    body = format_html_join("", "<tr>{}</tr>", ((row_cells,) for row_cells in cells))
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


class ViewOnlyAdmin(admin.ModelAdmin):
    """Rows written by user actions: browsable, never added or edited by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    fields = ("display_name", "bio", "is_pro", "dm_policy", "tag_policy", "muted_types")


admin.site.unregister(User)


@admin.register(User)
class ShareloopUserAdmin(UserAdmin):
    inlines = (ProfileInline,)
    list_display = ("username", "display_name", "email", "is_pro", "is_staff", "is_active", "date_joined")
    list_filter = ("is_staff", "is_superuser", "is_active", "profile__is_pro", "groups")
    search_fields = ("username", "email", "profile__display_name")
    list_select_related = ("profile",)
    date_hierarchy = "date_joined"
    readonly_fields = ("last_login", "date_joined", "contact_settings", "blocked_users", "activity")

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        account, *rest = fieldsets
        if not self.has_change_permission(request, obj):
            # The read-only password widget still renders a "Reset password" button: view-only staff get none.
            name, options = account
            account = (name, {**options, "fields": [f for f in options["fields"] if f != "password"]})
        return (
            account,
            ("Why a notification might not reach them", {"fields": ("contact_settings", "blocked_users", "activity")}),
            *((name, {**options, "classes": ("collapse",)}) for name, options in rest),
        )

    def get_inline_instances(self, request, obj=None):
        # A new user's profile is made by the post_save signal; the inline edits it afterwards.
        return super().get_inline_instances(request, obj) if obj is not None else []

    @admin.display(description="display name", ordering="profile__display_name")
    def display_name(self, user):
        profile = getattr(user, "profile", None)
        return profile.display_name if profile else "—"

    @admin.display(description="Pro", boolean=True, ordering="profile__is_pro")
    def is_pro(self, user):
        profile = getattr(user, "profile", None)
        return bool(profile and profile.is_pro)

    @admin.display(description="settings (edit below, in Profile)")
    def contact_settings(self, user):
        profile = getattr(user, "profile", None)
        if profile is None:
            return "no profile"
        muted = ", ".join(profile.muted_types) or "nothing"
        return (
            f"muted: {muted} · DMs from: {profile.get_dm_policy_display()} · "
            f"tags and mentions from: {profile.get_tag_policy_display()}"
        )

    @admin.display(description="users they blocked (no identified notifications from them)")
    def blocked_users(self, user):
        blocked = User.objects.filter(blocks_received__blocker=user).order_by("username")
        return format_html_join(", ", "{}", ((admin_link(b),) for b in blocked)) or "nobody"

    @admin.display(description="their actions and follows")
    def activity(self, user):
        return format_html(
            "{} · {} · {}",
            changelist_link(Event, "events they caused", actor__id__exact=user.pk),
            changelist_link(Follow, "who follows them", followee__id__exact=user.pk),
            changelist_link(Follow, "whom they follow", follower__id__exact=user.pk),
        )


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "display_name", "is_pro", "dm_policy", "tag_policy", "muted_types")
    list_filter = ("is_pro", "dm_policy", "tag_policy")
    search_fields = ("user__username", "display_name")
    list_select_related = ("user",)
    readonly_fields = ("user",)

    def has_add_permission(self, request):
        return False  # Every user gets one from the post_save signal.


@admin.register(Follow)
class FollowAdmin(ViewOnlyAdmin):
    list_display = ("follower", "followee", "created_at")
    list_filter = ("created_at",)
    search_fields = ("follower__username", "followee__username")
    list_select_related = ("follower", "followee")
    date_hierarchy = "created_at"


@admin.register(FollowedPair)
class FollowedPairAdmin(ViewOnlyAdmin):
    """Pairs that ever followed: why a follow again after an unfollow notified nobody."""

    list_display = ("follower", "followee")
    search_fields = ("follower__username", "followee__username")
    list_select_related = ("follower", "followee")
    raw_id_fields = ("follower", "followee")


@admin.register(LikedPair)
class LikedPairAdmin(ViewOnlyAdmin):
    """Users who ever liked a video: why a like again after an unlike notified nobody."""

    list_display = ("user", "video")
    search_fields = ("user__username", "=video__id")
    list_select_related = ("user", "video")
    raw_id_fields = ("user", "video")


@admin.register(Block)
class BlockAdmin(admin.ModelAdmin):
    list_display = ("blocker", "blocked", "created_at")
    list_filter = ("created_at",)
    search_fields = ("blocker__username", "blocked__username")
    autocomplete_fields = ("blocker", "blocked")
    list_select_related = ("blocker", "blocked")
    date_hierarchy = "created_at"


class HideableAdmin(admin.ModelAdmin):
    """Moderators hide and unhide rows (videos, comments) in bulk; hidden rows stay for the record."""

    actions = ("hide", "unhide")

    def _set_hidden(self, request, queryset, *, hidden: bool):
        changed = queryset.exclude(is_hidden=hidden).update(is_hidden=hidden)
        noun = self.opts.verbose_name_plural
        self.message_user(request, f"{'Hid' if hidden else 'Unhid'} {changed} {noun}.", messages.SUCCESS)

    @admin.action(description="Hide selected %(verbose_name_plural)s", permissions=("change",))
    def hide(self, request, queryset):
        self._set_hidden(request, queryset, hidden=True)

    @admin.action(description="Unhide selected %(verbose_name_plural)s", permissions=("change",))
    def unhide(self, request, queryset):
        self._set_hidden(request, queryset, hidden=False)


@admin.register(Video)
class VideoAdmin(HideableAdmin):
    list_display = (
        "id",
        "caption",
        "creator",
        "view_count",
        "like_count",
        "comment_count",
        "share_count",
        "is_hidden",
        "created_at",
    )
    list_filter = ("is_hidden", "created_at")
    search_fields = ("=id", "caption", "creator__username")
    list_select_related = ("creator",)
    date_hierarchy = "created_at"
    fields = ("creator", "caption", "is_hidden", "created_at", "related", "counts_from_rows", "shares_by_channel")
    readonly_fields = (
        "creator",
        "created_at",
        "related",
        "counts_from_rows",
        "shares_by_channel",
        "share_counts_by_channel",
    )
    actions = (*HideableAdmin.actions, "rebuild_counts")

    def has_add_permission(self, request):
        return False  # Posting goes through the service, which also notifies followers.

    def get_fields(self, request, obj=None):
        if may_see_sharers(request):
            return self.fields
        return tuple("share_counts_by_channel" if name == "shares_by_channel" else name for name in self.fields)

    @admin.action(description="Rebuild counts of selected videos from their rows", permissions=("change",))
    def rebuild_counts(self, request, queryset):
        fixes = []
        videos = list(queryset)
        for video in videos:
            changed = services.video_counts_rebuild(video=video)
            fixes += [f"#{video.pk} {name.removesuffix('_count')}s {was}→{now}" for name, (was, now) in changed.items()]
        text = f"Recounted {len(videos)} video(s): " + ("; ".join(fixes) if fixes else "all counts were right.")
        self.message_user(request, text, messages.SUCCESS)

    def related_links(self, video) -> list[str]:
        """Links to the rows about this video; apps that keep more of them add theirs."""
        return [
            changelist_link(Event, "events on this video", video__id__exact=video.pk),
            changelist_link(Comment, "comments", video__id__exact=video.pk),
            changelist_link(Like, "likes", video__id__exact=video.pk),
        ]

    @admin.display(description="related rows")
    def related(self, video):
        return format_html_join(" · ", "{}", ((link,) for link in self.related_links(video)))

    @admin.display(description="counts (stored / counted from rows)")
    def counts_from_rows(self, video):
        counted = {
            "views": (video.view_count, VideoView.objects.filter(video=video).count()),
            "likes": (video.like_count, Like.objects.filter(video=video).count()),
            "comments": (video.comment_count, Comment.objects.filter(video=video).count()),
            # Shares a batch window still holds are not in the count yet: only released ones are compared.
            "shares": (video.share_count, Share.objects.filter(video=video, released_at__isnull=False).count()),
        }
        rows = [
            (name, stored, rows, "ok" if stored == rows else "MISMATCH: run “Rebuild counts”")
            for name, (stored, rows) in counted.items()
        ]
        return html_table(["counter", "stored", "rows", ""], rows)

    @staticmethod
    def _share_counts(video) -> str:
        per_channel = dict(video.shares.values_list("channel").annotate(n=Count("id")).order_by())
        return ", ".join(f"{label}: {per_channel.get(value, 0)}" for value, label in ShareChannel.choices)

    @admin.display(description="shares by channel")
    def share_counts_by_channel(self, video):
        return format_html(
            "<p>{}</p><p>Who shared is shown only to staff with access to shares.</p>", self._share_counts(video)
        )

    @admin.display(description="shares by channel — sharers visible to staff only")
    def shares_by_channel(self, video):
        summary = self._share_counts(video)
        recent = (
            video.shares.select_related("sharer")
            .annotate(tagged_n=Count("tagged", distinct=True), recipients_n=Count("recipients", distinct=True))
            .order_by("-created_at")[:RECENT_SHARE_ROWS]
        )
        rows = [
            (
                s.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                s.get_channel_display(),
                admin_link(s.sharer),
                s.tagged_n,
                s.recipients_n,
            )
            for s in recent
        ]
        table = html_table(["when", "channel", "sharer (staff only)", "tagged", "DM recipients"], rows) if rows else ""
        return format_html(
            "<p><strong>Visible to staff only.</strong> The creator and everyone else only ever learn the count."
            "</p><p>{}</p>{}",
            summary,
            table,
        )


@admin.register(VideoView)
class VideoViewAdmin(ViewOnlyAdmin):
    list_display = ("video", "viewer", "created_at")
    list_filter = ("created_at",)
    search_fields = ("=video__id", "viewer__username")
    list_select_related = ("video", "viewer")
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(ProfileView)
class ProfileViewAdmin(ViewOnlyAdmin):
    list_display = ("profile_user", "viewer", "created_at")
    list_filter = ("created_at",)
    search_fields = ("profile_user__username", "viewer__username")
    list_select_related = ("profile_user", "viewer")
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(Like)
class LikeAdmin(ViewOnlyAdmin):
    list_display = ("user", "video", "created_at")
    list_filter = ("created_at",)
    search_fields = ("user__username", "=video__id")
    list_select_related = ("user", "video")
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(Comment)
class CommentAdmin(HideableAdmin):
    list_display = ("text", "author", "video", "is_hidden", "created_at")
    list_filter = ("is_hidden", "created_at")
    search_fields = ("text", "author__username", "=video__id")
    list_select_related = ("author", "video")
    date_hierarchy = "created_at"
    fields = ("author", "video", "text", "is_hidden", "created_at")
    readonly_fields = ("author", "video", "created_at")

    def has_add_permission(self, request):
        return False  # Commenting goes through the service, which notifies the creator.


@admin.register(Share)
class ShareAdmin(ViewOnlyAdmin):
    """Staff only: the one place a sharer's identity is shown, and it says so."""

    list_display = ("id", "video", "channel", "sharer_staff_only", "created_at")
    list_filter = ("channel", "created_at")
    search_fields = ("sharer__username", "=video__id")
    list_select_related = ("sharer", "video")
    date_hierarchy = "created_at"
    fields = ("video", "channel", "sharer_staff_only", "tagged_users", "dm_recipients", "message", "created_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                Prefetch("tagged", queryset=User.objects.order_by("username")),
                Prefetch("recipients", queryset=User.objects.order_by("username")),
            )
        )

    @admin.display(description="sharer (visible to staff only)", ordering="sharer__username")
    def sharer_staff_only(self, share):
        return admin_link(share.sharer)

    @admin.display(description="tagged")
    def tagged_users(self, share):
        return format_html_join(", ", "{}", ((admin_link(u),) for u in share.tagged.all())) or "—"

    @admin.display(description="DM recipients")
    def dm_recipients(self, share):
        return format_html_join(", ", "{}", ((admin_link(u),) for u in share.recipients.all())) or "—"


class MessageInline(admin.TabularInline):
    model = Message
    fields = ("created_at", "sender", "text", "video", "share")
    readonly_fields = fields
    ordering = ("created_at",)
    extra = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("sender", "video", "share")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Conversation)
class ConversationAdmin(ViewOnlyAdmin):
    list_display = ("id", "participant_names", "message_count", "created_at", "updated_at")
    list_filter = ("updated_at",)
    search_fields = ("=id", "participants__username")
    date_hierarchy = "updated_at"
    fields = ("participant_names", "key", "created_at", "updated_at")
    readonly_fields = fields
    inlines = (MessageInline,)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("participants", queryset=User.objects.order_by("username")))
            .annotate(messages_n=Count("messages"))
        )

    @admin.display(description="participants")
    def participant_names(self, conversation):
        return ", ".join(f"@{u.username}" for u in conversation.participants.all())

    @admin.display(description="messages", ordering="messages_n")
    def message_count(self, conversation):
        return conversation.messages_n


@admin.register(Message)
class MessageAdmin(ViewOnlyAdmin):
    list_display = ("id", "conversation", "sender", "text", "video", "created_at")
    list_filter = ("created_at",)
    search_fields = ("text", "sender__username", "=conversation__id")
    list_select_related = ("sender", "video", "conversation")
    date_hierarchy = "created_at"
    readonly_fields = ("conversation", "sender", "text", "video", "share", "created_at")
