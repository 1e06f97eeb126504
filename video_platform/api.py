"""REST API of the social core: thin views that validate input and call one service."""

from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework import generics, serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from inbox.policy import NotificationType

from . import selectors, services, throttles
from .models import (
    CAPTION_MAX_LENGTH,
    COMMENT_MAX_LENGTH,
    MESSAGE_MAX_LENGTH,
    ContactPolicy,
    Profile,
    ShareChannel,
    Video,
)

User = get_user_model()


def exception_handler(exc, context):
    """Services raise Django's ValidationError; answer it like a serializer's: 400 with field errors."""
    if isinstance(exc, DjangoValidationError):
        exc = serializers.ValidationError(serializers.as_serializer_error(exc))
    return drf_exception_handler(exc, context)


class NewestFirst(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 20
    page_size_query_param = "limit"
    max_page_size = 100


class OldestFirst(NewestFirst):
    ordering = ("created_at", "id")


class RecentlyUpdatedFirst(NewestFirst):
    ordering = ("-updated_at", "-id")


class UserBriefSerializer(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField(source="profile.display_name")


class VideoBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    caption = serializers.CharField()


class EventIdMixin(serializers.Serializer):
    event_id = serializers.SerializerMethodField()

    def get_event_id(self, obj) -> int | None:
        event = getattr(obj, "event", None)
        return event.pk if event else None


class ProfileSerializer(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField(source="profile.display_name")
    bio = serializers.CharField(source="profile.bio")
    is_pro = serializers.BooleanField(source="profile.is_pro")
    counts = serializers.SerializerMethodField()

    def get_counts(self, user) -> dict[str, int]:
        return {"followers": user.followers_count, "following": user.following_count, "videos": user.videos_count}


class SignUpSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, validators=[UnicodeUsernameValidator()])
    password = serializers.CharField(write_only=True, max_length=128, style={"input_type": "password"})
    display_name = serializers.CharField(max_length=50, required=False, allow_blank=True)

    def validate_username(self, value):
        if User.objects.filter(username__iexact=value).exists():
            raise serializers.ValidationError("That username is taken.")
        return value


class MeSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    muted_types = serializers.ListField(
        child=serializers.ChoiceField(choices=[t.value for t in NotificationType]), required=False, max_length=8
    )

    class Meta:
        model = Profile
        fields = ("username", "display_name", "bio", "is_pro", "dm_policy", "tag_policy", "muted_types")


class VideoSerializer(EventIdMixin, serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    creator = UserBriefSerializer(read_only=True)
    caption = serializers.CharField(max_length=CAPTION_MAX_LENGTH)
    created_at = serializers.DateTimeField(read_only=True)
    counts = serializers.SerializerMethodField()
    liked = serializers.BooleanField(read_only=True, default=False)

    def get_counts(self, video) -> dict[str, int]:
        return {
            "views": video.view_count,
            "likes": video.like_count,
            "comments": video.comment_count,
            "shares": video.share_count,
        }


class CommentSerializer(EventIdMixin, serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    author = UserBriefSerializer(read_only=True)
    text = serializers.CharField(max_length=COMMENT_MAX_LENGTH)
    created_at = serializers.DateTimeField(read_only=True)


def _usernames(**kwargs):
    return serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.all(), many=True, required=False, **kwargs
    )


class ShareSerializer(EventIdMixin, serializers.Serializer):
    """The sharer's own record of a share: only ever answered to the sharer."""

    id = serializers.IntegerField(read_only=True)
    video = VideoBriefSerializer(read_only=True)
    channel = serializers.ChoiceField(choices=ShareChannel.values)
    tagged = _usernames()
    recipients = _usernames()
    message = serializers.CharField(max_length=MESSAGE_MAX_LENGTH, required=False, allow_blank=True, default="")
    created_at = serializers.DateTimeField(read_only=True)
    share_count = serializers.SerializerMethodField()

    def get_share_count(self, share) -> int:
        return Video.objects.values_list("share_count", flat=True).get(pk=share.video_id)

    def validate(self, data):
        if data["channel"] == ShareChannel.TAG and not data.get("tagged"):
            raise serializers.ValidationError({"tagged": "A tag share needs at least one tagged user."})
        if data["channel"] == ShareChannel.DM and not data.get("recipients"):
            raise serializers.ValidationError({"recipients": "A DM share needs at least one recipient."})
        return data


class ConversationSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    participants = _usernames(write_only=True)
    members = UserBriefSerializer(source="participants.all", many=True, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def validate_participants(self, value):
        if not value:
            raise serializers.ValidationError("Name at least one other user.")
        return value


class MessageSerializer(EventIdMixin, serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    sender = UserBriefSerializer(read_only=True)
    text = serializers.CharField(max_length=MESSAGE_MAX_LENGTH, required=False, allow_blank=True, default="")
    video = serializers.PrimaryKeyRelatedField(
        queryset=Video.objects.filter(is_hidden=False), required=False, allow_null=True
    )
    video_detail = VideoBriefSerializer(source="video", read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)

    def validate(self, data):
        if not data.get("text", "").strip() and not data.get("video"):
            raise serializers.ValidationError({"text": "Write something or attach a video."})
        return data


class FollowResultSerializer(EventIdMixin, serializers.Serializer):
    following = serializers.BooleanField(default=True)


def _user(username: str):
    return get_object_or_404(User.objects.select_related("profile"), username=username)


class TokenLoginView(ObtainAuthToken):
    """POST {username, password} -> {token}; attempts are throttled per client address."""

    throttle_classes = [throttles.ScopedRateThrottle]
    throttle_scope = "login"


class SignUpView(APIView):
    permission_classes = [AllowAny]
    throttle_scope = "signup"

    @extend_schema(request=SignUpSerializer, responses={201: ProfileSerializer})
    def post(self, request):
        data = SignUpSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            user = services.user_create(**data.validated_data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"password": list(exc.messages)}) from exc
        user = selectors.users_with_counts().get(pk=user.pk)
        return Response(ProfileSerializer(user).data, status=status.HTTP_201_CREATED)


class ProfileView(generics.RetrieveAPIView):
    serializer_class = ProfileSerializer
    lookup_field = "username"

    def get_queryset(self):
        return selectors.users_with_counts()


class ProfileViewCountView(APIView):
    @extend_schema(request=None, responses={201: None, 200: None})
    def post(self, request, username):
        view = services.profile_view_record(profile_user=_user(username), viewer=request.user)
        return Response({"counted": view is not None}, status=201 if view else 200)


class FollowView(APIView):
    @extend_schema(request=None, responses={201: FollowResultSerializer, 200: FollowResultSerializer})
    def post(self, request, username):
        follow = services.follow_create(follower=request.user, followee=_user(username))
        return Response(FollowResultSerializer(follow).data, status=201 if follow.event else 200)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, username):
        services.follow_delete(follower=request.user, followee=_user(username))
        return Response(status=status.HTTP_204_NO_CONTENT)


class BlockView(APIView):
    @extend_schema(request=None, responses={201: None})
    def post(self, request, username):
        services.block_create(blocker=request.user, blocked=_user(username))
        return Response({"blocked": True}, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, username):
        services.block_delete(blocker=request.user, blocked=_user(username))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user.profile).data)

    @extend_schema(request=MeSerializer, responses=MeSerializer)
    def patch(self, request):
        data = MeSerializer(request.user.profile, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        profile = services.profile_update(user=request.user, **data.validated_data)
        return Response(MeSerializer(profile).data)


class VideoListView(generics.ListCreateAPIView):
    serializer_class = VideoSerializer
    pagination_class = NewestFirst

    def get_queryset(self):
        creator = self.request.query_params.get("creator")
        return selectors.video_list(
            viewer=self.request.user,
            creator=_user(creator) if creator else None,
            following_only=self.request.query_params.get("feed") == "following",
        )

    def perform_create(self, serializer):
        serializer.instance = services.video_create(creator=self.request.user, **serializer.validated_data)


class VideoDetailView(generics.RetrieveAPIView):
    serializer_class = VideoSerializer

    def get_queryset(self):
        return selectors.video_visible(viewer=self.request.user)


def _video(request, video_id: int) -> Video:
    return get_object_or_404(selectors.video_visible(viewer=request.user), pk=video_id)


class VideoViewCountView(APIView):
    @extend_schema(request=None, responses={201: VideoSerializer, 200: VideoSerializer})
    def post(self, request, pk):
        video = _video(request, pk)
        view = services.video_view_record(video=video, viewer=request.user)
        return Response(VideoSerializer(_video(request, pk)).data, status=201 if view else 200)


class LikeView(APIView):
    @extend_schema(request=None, responses={201: VideoSerializer, 200: VideoSerializer})
    def post(self, request, pk):
        like = services.like_create(user=request.user, video=_video(request, pk))
        video = _video(request, pk)
        video.event = like.event
        return Response(VideoSerializer(video).data, status=201 if like.event else 200)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, pk):
        services.like_delete(user=request.user, video=_video(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CommentListView(generics.ListCreateAPIView):
    serializer_class = CommentSerializer
    pagination_class = OldestFirst

    def get_queryset(self):
        return selectors.video_comments(video=_video(self.request, self.kwargs["pk"]))

    def create(self, request, *args, **kwargs):
        _video(request, self.kwargs["pk"])  # 404 before validation, as for every id-bearing route
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.comment_create(
            author=self.request.user, video=_video(self.request, self.kwargs["pk"]), **serializer.validated_data
        )


class ShareCreateView(generics.CreateAPIView):
    serializer_class = ShareSerializer

    def create(self, request, *args, **kwargs):
        _video(request, self.kwargs["pk"])  # 404 before validation, as for every id-bearing route
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.video_share(
            sharer=self.request.user, video=_video(self.request, self.kwargs["pk"]), **serializer.validated_data
        )


class ConversationListView(generics.ListCreateAPIView):
    serializer_class = ConversationSerializer
    pagination_class = RecentlyUpdatedFirst

    def get_queryset(self):
        return selectors.conversations_of(user=self.request.user)

    def create(self, request, *args, **kwargs):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        conversation, created = services.conversation_get_or_create(
            creator=request.user, participants=data.validated_data["participants"]
        )
        return Response(ConversationSerializer(conversation).data, status=201 if created else 200)


class MessageListView(generics.ListCreateAPIView):
    serializer_class = MessageSerializer
    pagination_class = NewestFirst

    def conversation(self):
        return get_object_or_404(selectors.conversations_of(user=self.request.user), pk=self.kwargs["pk"])

    def get_queryset(self):
        return selectors.conversation_messages(conversation=self.conversation())

    def create(self, request, *args, **kwargs):
        self.conversation()  # 404 before validation: a 400 would confirm that the conversation exists
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.message_send(
            sender=self.request.user, conversation=self.conversation(), **serializer.validated_data
        )
