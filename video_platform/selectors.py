"""Reads of the social core."""

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery

from .models import Block, Comment, Conversation, Follow, Message, Video

User = get_user_model()


def users_with_counts() -> QuerySet:
    return User.objects.select_related("profile").annotate(
        followers_count=Count("follower_set", distinct=True),
        following_count=Count("following_set", distinct=True),
        videos_count=Count("videos", filter=Q(videos__is_hidden=False), distinct=True),
    )


def video_list(*, viewer, creator=None, following_only: bool = False) -> QuerySet:
    videos = Video.objects.filter(is_hidden=False).select_related("creator__profile")
    if creator is not None:
        videos = videos.filter(creator=creator)
    if following_only:
        videos = videos.filter(creator__follower_set__follower=viewer)
    return videos.annotate(liked=Exists(viewer.likes.filter(video=OuterRef("pk"))))


def video_openable(*, viewer) -> QuerySet:
    """Videos the viewer may open: everything not hidden by a moderator, and their own."""
    return Video.objects.filter(Q(is_hidden=False) | Q(creator=viewer))


def video_visible(*, viewer) -> QuerySet:
    """Openable videos with what showing one needs: the creator's profile and whether the viewer liked it."""
    return (
        video_openable(viewer=viewer)
        .select_related("creator__profile")
        .annotate(liked=Exists(viewer.likes.filter(video=OuterRef("pk"))))
    )


def video_comments(*, video: Video) -> QuerySet:
    return Comment.objects.filter(video=video, is_hidden=False).select_related("author__profile")


def conversations_of(*, user) -> QuerySet:
    return Conversation.objects.filter(participants=user).prefetch_related("participants__profile")


def conversations_with_last_message(*, user) -> QuerySet:
    """The user's chats, latest first, each with its last message's text, sender and whether it carries a video."""
    last = Message.objects.filter(conversation=OuterRef("pk")).order_by("-created_at", "-id")
    return (
        conversations_of(user=user)
        .annotate(
            last_text=Subquery(last.values("text")[:1]),
            last_sender_id=Subquery(last.values("sender_id")[:1]),
            last_video_id=Subquery(last.values("video_id")[:1]),
        )
        .order_by("-updated_at", "-id")
    )


def conversation_messages(*, conversation: Conversation) -> QuerySet:
    return Message.objects.filter(conversation=conversation).select_related("sender__profile", "video")


def relationship(*, viewer, other) -> dict:
    return {
        "is_following": Follow.objects.filter(follower=viewer, followee=other).exists(),
        "is_blocked": Block.objects.filter(blocker=viewer, blocked=other).exists(),
    }


def share_contacts(*, user) -> QuerySet:
    """People the share sheet offers: whom the user follows and who follows them."""
    return (
        User.objects.filter(Q(follower_set__follower=user) | Q(following_set__followee=user))
        .exclude(pk=user.pk)
        .select_related("profile")
        .distinct()
        .order_by("username")
    )
