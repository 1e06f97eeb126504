from django.contrib import admin

from .models import Block, Comment, Conversation, Follow, Like, Message, Profile, ProfileView, Share, Video, VideoView


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "display_name", "is_pro", "dm_policy", "tag_policy")
    list_filter = ("is_pro", "dm_policy", "tag_policy")
    search_fields = ("user__username", "display_name")
    autocomplete_fields = ("user",)
    list_select_related = ("user",)


@admin.register(Follow)
class FollowAdmin(admin.ModelAdmin):
    list_display = ("follower", "followee", "created_at")
    list_filter = ("created_at",)
    search_fields = ("follower__username", "followee__username")
    autocomplete_fields = ("follower", "followee")
    list_select_related = ("follower", "followee")


@admin.register(Block)
class BlockAdmin(admin.ModelAdmin):
    list_display = ("blocker", "blocked", "created_at")
    list_filter = ("created_at",)
    search_fields = ("blocker__username", "blocked__username")
    autocomplete_fields = ("blocker", "blocked")
    list_select_related = ("blocker", "blocked")


@admin.register(Video)
class VideoAdmin(admin.ModelAdmin):
    list_display = ("id", "caption", "creator", "view_count", "like_count", "comment_count", "share_count",
                    "is_hidden", "created_at")  # fmt: skip
    list_filter = ("is_hidden", "created_at")
    search_fields = ("caption", "creator__username")
    autocomplete_fields = ("creator",)
    list_select_related = ("creator",)
    readonly_fields = ("view_count", "like_count", "comment_count", "share_count")
    date_hierarchy = "created_at"


@admin.register(VideoView)
class VideoViewAdmin(admin.ModelAdmin):
    list_display = ("video", "viewer", "created_at")
    list_filter = ("created_at",)
    search_fields = ("video__caption", "viewer__username")
    raw_id_fields = ("video", "viewer")
    list_select_related = ("video", "viewer")


@admin.register(ProfileView)
class ProfileViewAdmin(admin.ModelAdmin):
    list_display = ("profile_user", "viewer", "created_at")
    list_filter = ("created_at",)
    search_fields = ("profile_user__username", "viewer__username")
    raw_id_fields = ("profile_user", "viewer")
    list_select_related = ("profile_user", "viewer")


@admin.register(Like)
class LikeAdmin(admin.ModelAdmin):
    list_display = ("user", "video", "created_at")
    list_filter = ("created_at",)
    search_fields = ("user__username", "video__caption")
    raw_id_fields = ("video",)
    autocomplete_fields = ("user",)
    list_select_related = ("user", "video")


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ("text", "author", "video", "is_hidden", "created_at")
    list_filter = ("is_hidden", "created_at")
    search_fields = ("text", "author__username")
    raw_id_fields = ("video",)
    autocomplete_fields = ("author",)
    list_select_related = ("author", "video")


@admin.register(Share)
class ShareAdmin(admin.ModelAdmin):
    """Staff only: the one place a sharer's identity is shown, and it says so."""

    list_display = ("id", "video", "channel", "sharer_staff_only", "created_at")
    list_filter = ("channel", "created_at")
    search_fields = ("sharer__username", "video__caption")
    raw_id_fields = ("video",)
    autocomplete_fields = ("sharer", "tagged", "recipients")
    list_select_related = ("sharer", "video")

    @admin.display(description="sharer (visible to staff only)", ordering="sharer__username")
    def sharer_staff_only(self, share):
        return share.sharer


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    raw_id_fields = ("sender", "video", "share")


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("id", "key", "created_at", "updated_at")
    list_filter = ("updated_at",)
    search_fields = ("participants__username",)
    autocomplete_fields = ("participants",)
    inlines = (MessageInline,)


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("id", "conversation", "sender", "text", "video", "created_at")
    list_filter = ("created_at",)
    search_fields = ("text", "sender__username")
    raw_id_fields = ("conversation", "video", "share")
    autocomplete_fields = ("sender",)
    list_select_related = ("sender", "video", "conversation")
