"""REST API of the social core: thin views that validate input and call one service."""

from base64 import b64decode
from collections.abc import Mapping
from urllib import parse

from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import MaxLengthValidator, RegexValidator
from django.db import models
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import generics, serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from . import selectors, services, throttles
from .models import (
    CAPTION_MAX_LENGTH,
    COMMENT_MAX_LENGTH,
    MESSAGE_MAX_LENGTH,
    SHARE_MAX_PEOPLE,
    Profile,
    ShareChannel,
    Video,
)
from .notification_types import NOTIFICATION_TYPES
from .parsers import JSONParser
from .usernames import username_lookup

User = get_user_model()


def exception_handler(exc, context):
    """Services raise Django's ValidationError; answer it like a serializer's: 400 with field errors."""
    if isinstance(exc, services.SelfActionRefused):
        return Response({"detail": exc.messages[0]}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        exc = serializers.ValidationError(serializers.as_serializer_error(exc))
    return drf_exception_handler(exc, context)


class NewestFirst(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 20
    page_size_query_param = "limit"
    max_page_size = 100
    invalid_cursor_message = "Invalid cursor: use `next` or `previous` as given."

    def get_page_size(self, request):
        """``limit`` out of 1..100 is a 400, not silently replaced: a QA script learns its mistake."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= self.max_page_size):
            raise serializers.ValidationError({"limit": [f"A whole number from 1 to {self.max_page_size}."]})
        return int(raw)

    def paginate_queryset(self, queryset, request, view=None):
        self._position_field = queryset.model._meta.get_field(self.ordering[0].lstrip("-"))
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        """Only a cursor as this paginator writes it; anything else is one short 400 that quotes nothing
        (DRF reads ``!!!`` as the first page, a bad offset as a 404, and quotes a bad position back)."""
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        try:
            tokens = parse.parse_qs(b64decode(encoded, validate=True).decode("ascii"), strict_parsing=True)
            if not tokens or set(tokens) - {"o", "r", "p"} or any(len(values) > 1 for values in tokens.values()):
                raise ValueError
            (offset,), (reverse,) = tokens.get("o", ["0"]), tokens.get("r", ["0"])
            if not (offset.isascii() and offset.isdigit() and int(offset) <= self.offset_cutoff):
                raise ValueError
            if reverse not in ("0", "1"):
                raise ValueError
            position = tokens["p"][0] if "p" in tokens else None
            if position is not None:
                self._position_field.to_python(position)
        except (ValueError, DjangoValidationError):
            raise serializers.ValidationError({self.cursor_query_param: [self.invalid_cursor_message]}) from None
        return Cursor(offset=int(offset), reverse=reverse == "1", position=position)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] |= {"minimum": 1, "maximum": self.max_page_size}
                parameter["description"] = f"Page size, 1 to {self.max_page_size} (default {self.page_size})."
            elif parameter["name"] == self.cursor_query_param:
                parameter["description"] = "Opaque; take it from `next`/`previous`. Any other value is a 400."
        return parameters


class OldestFirst(NewestFirst):
    ordering = ("created_at", "id")


class RecentlyUpdatedFirst(NewestFirst):
    ordering = ("-updated_at", "-id")


class StrictCharField(serializers.CharField):
    """Text input that must be a JSON string (DRF would turn ``0`` into ``"0"``) with something in it."""

    def __init__(self, **kwargs):
        # The rules as a pattern, so the OpenAPI schema states them: no NUL, not only ASCII whitespace.
        # Spelled out rather than \s or strip(), whose idea of whitespace differs between Python and JS.
        if not kwargs.get("validators") and not kwargs.get("read_only"):
            pattern = r"^[^\x00]*$" if kwargs.get("allow_blank") else r"^[^\x00]*[^ \t\n\r\f\v\x00][^\x00]*$"
            kwargs["validators"] = [RegexValidator(pattern, "This field may not be blank or hold NUL characters.")]
            kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A JSON ``true`` or ``false``; DRF would also take ``0``, ``"yes"`` and ``"on"``."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


def _is_id_or_null(value) -> bool:
    return value is None or type(value) is int  # not a bool, a float or a numeric string


# For every write serializer: refuse what a client could not have meant, as a 400 naming the field, rather than
# ignore it (a typo'd or read-only field) or round it ("video": 8.5 read as video 8). A comment, not a docstring,
# which would become the schema's description of every serializer using it.
class StrictInputMixin:
    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            errors = {}
            for name, value in data.items():
                field = self.fields.get(name)
                if field is None:
                    errors[name] = ["Unknown field."]
                elif field.read_only:
                    errors[name] = ["This field is read-only."]
                elif isinstance(field, serializers.PrimaryKeyRelatedField) and not _is_id_or_null(value):
                    errors[name] = ["An id (a whole number) is required."]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class UserBriefSerializer(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField(source="profile.display_name")


class VideoBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    caption = serializers.CharField()


class EventIdMixin(serializers.Serializer):
    event_id = serializers.SerializerMethodField(
        help_text="The event to wait on (GET /api/events/{id}/); null when nobody is to be notified, as for a "
        "follow or like that existed already or is made again after an unfollow or unlike."
    )

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


class SignUpSerializer(StrictInputMixin, serializers.Serializer):
    # Checked (and normalised) by the sign-up service, the one home of the rule.
    username = StrictCharField(
        help_text="Letters, digits, `_` and `.`, not ending in `.`; stored in lower case (NFKC). A name taken "
        "in any case, or a look-alike of one (fullwidth letters), is a 400 on `username`."
    )
    # Django's password validators also refuse common and too-similar passwords (400, field errors).
    password = StrictCharField(
        write_only=True,
        min_length=8,
        max_length=128,
        validators=[RegexValidator(r"^[^\x00]*[^\d\x00][^\x00]*$", "This password is entirely numeric.")],
        style={"input_type": "password"},
    )
    display_name = StrictCharField(max_length=50, required=False, allow_blank=True)


class MeSerializer(StrictInputMixin, serializers.ModelSerializer):
    serializer_field_mapping = serializers.ModelSerializer.serializer_field_mapping | {
        models.CharField: StrictCharField,
        models.BooleanField: StrictBooleanField,
    }
    username = serializers.CharField(source="user.username", read_only=True)
    muted_types = serializers.ListField(
        child=serializers.ChoiceField(choices=NOTIFICATION_TYPES), required=False, max_length=len(NOTIFICATION_TYPES)
    )

    class Meta:
        model = Profile
        fields = ("username", "display_name", "bio", "is_pro", "dm_policy", "tag_policy", "muted_types")


class VideoSerializer(StrictInputMixin, EventIdMixin, serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    creator = UserBriefSerializer(read_only=True)
    caption = StrictCharField(max_length=CAPTION_MAX_LENGTH)
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


class CommentSerializer(StrictInputMixin, EventIdMixin, serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    author = UserBriefSerializer(read_only=True)
    text = StrictCharField(max_length=COMMENT_MAX_LENGTH)
    created_at = serializers.DateTimeField(read_only=True)


class UsernameField(serializers.SlugRelatedField):
    """An existing user named by a JSON string."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        username = username_lookup(data)
        if username is None:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return super().to_internal_value(username)


def _usernames(required: bool = False, **kwargs):
    return UsernameField(slug_field="username", queryset=User.objects.all(), many=True, required=required, **kwargs)


class ShareUsernamesField(serializers.ManyRelatedField):
    """Who a share tagged or messaged, by username. Only a share of ``channel`` can name anyone (the
    service keeps the other list empty), so another share's empty list is answered without a query."""

    def __init__(self, channel: str, **kwargs):
        self.channel = channel
        kwargs.setdefault("required", False)
        # The schema's maxItems; to_internal_value refuses a longer list before looking anyone up.
        kwargs.setdefault("validators", [MaxLengthValidator(SHARE_MAX_PEOPLE)])
        super().__init__(child_relation=UsernameField(slug_field="username", queryset=User.objects.all()), **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, list) and len(data) > SHARE_MAX_PEOPLE:
            raise serializers.ValidationError(services.SHARE_TOO_MANY_PEOPLE)
        return super().to_internal_value(data)

    def get_attribute(self, share):
        return super().get_attribute(share) if share.channel == self.channel else []


class ShareSerializer(StrictInputMixin, EventIdMixin, serializers.Serializer):
    """The sharer's own record of a share: only ever answered to the sharer."""

    id = serializers.IntegerField(read_only=True)
    video = VideoBriefSerializer(read_only=True)
    channel = serializers.ChoiceField(choices=ShareChannel.values)
    tagged = ShareUsernamesField(ShareChannel.TAG)
    recipients = ShareUsernamesField(ShareChannel.DM)
    message = StrictCharField(max_length=MESSAGE_MAX_LENGTH, required=False, allow_blank=True, default="")
    created_at = serializers.DateTimeField(read_only=True)
    share_count = serializers.IntegerField(
        source="video.share_count",
        read_only=True,
        help_text=(
            "The video's public share count. With share batching on, a share joins it when its batch window is "
            "released (at once when it tags or messages the creator), so this share may not be counted yet."
        ),
    )

    def validate(self, data):
        # Only a tag share names tagged people and only a DM share recipients: a list on another share is a mistake.
        # (That a tag or DM share names someone is video_share's rule; its field error answers 400.)
        for field, channel in (("tagged", ShareChannel.TAG), ("recipients", ShareChannel.DM)):
            if field in self.initial_data and data["channel"] != channel:
                raise serializers.ValidationError({field: f"Only a {channel} share takes `{field}`."})
        return data


class ConversationSerializer(StrictInputMixin, serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    participants = _usernames(required=True, write_only=True)
    members = UserBriefSerializer(source="participants.all", many=True, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class MessageSerializer(StrictInputMixin, EventIdMixin, serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    sender = UserBriefSerializer(read_only=True)
    text = StrictCharField(max_length=MESSAGE_MAX_LENGTH, required=False, allow_blank=True, default="")
    video = serializers.PrimaryKeyRelatedField(
        queryset=Video.objects.filter(is_hidden=False), required=False, allow_null=True
    )
    video_detail = VideoBriefSerializer(source="video", read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)


class FollowResultSerializer(EventIdMixin, serializers.Serializer):
    following = serializers.BooleanField(default=True)


class BlockResultSerializer(serializers.Serializer):
    blocked = serializers.BooleanField()


class CountedSerializer(serializers.Serializer):
    counted = serializers.BooleanField(help_text="False for a user's view of their own profile.")


@extend_schema_serializer(component_name="ErrorDetail")
class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


REFUSED = OpenApiResponse(ErrorSerializer, description="A block or the target's DM/tag policy refuses it.")
SELF = OpenApiResponse(ErrorSerializer, description="Aimed at yourself (follow, block, tag, DM a video): refused.")


def _user(username: str, users: models.QuerySet | None = None):
    """The user a URL names (among ``users``), or a 404."""
    username = username_lookup(username)
    if username is None:
        raise Http404
    return get_object_or_404(User.objects.select_related("profile") if users is None else users, username=username)


class TokenLoginSerializer(StrictInputMixin, AuthTokenSerializer):
    pass


class TokenLoginView(ObtainAuthToken):
    """POST {username, password} -> {token}; attempts are throttled per client address, failures per account."""

    serializer_class = TokenLoginSerializer
    throttle_classes = [throttles.ScopedRateThrottle, throttles.LoginFailuresThrottle]
    throttle_scope = "login"
    parser_classes = [*ObtainAuthToken.parser_classes[:-1], JSONParser]


class SignUpView(APIView):
    permission_classes = [AllowAny]
    throttle_scope = "signup"

    @extend_schema(request=SignUpSerializer, responses={201: ProfileSerializer})
    def post(self, request):
        data = SignUpSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_create(**data.validated_data)  # its field errors answer 400 (exception_handler)
        user = selectors.users_with_counts().get(pk=user.pk)
        return Response(ProfileSerializer(user).data, status=status.HTTP_201_CREATED)


class ProfileView(generics.RetrieveAPIView):
    serializer_class = ProfileSerializer
    lookup_field = "username"

    def get_queryset(self):
        return selectors.users_with_counts()

    def get_object(self):
        user = _user(self.kwargs["username"], self.get_queryset())
        self.check_object_permissions(self.request, user)
        return user


class ProfileViewCountView(APIView):
    @extend_schema(request=None, responses={201: CountedSerializer, 200: CountedSerializer})
    def post(self, request, username):
        view = services.profile_view_record(profile_user=_user(username), viewer=request.user)
        return Response({"counted": view is not None}, status=201 if view else 200)


class FollowView(APIView):
    @extend_schema(request=None, responses={201: FollowResultSerializer, 200: FollowResultSerializer, 400: SELF})
    def post(self, request, username):
        follow = services.follow_create(follower=request.user, followee=_user(username))
        return Response(FollowResultSerializer(follow).data, status=201 if follow.created else 200)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, username):
        services.follow_delete(follower=request.user, followee=_user(username))
        return Response(status=status.HTTP_204_NO_CONTENT)


class BlockView(APIView):
    @extend_schema(request=None, responses={201: BlockResultSerializer, 200: BlockResultSerializer, 400: SELF})
    def post(self, request, username):
        block = services.block_create(blocker=request.user, blocked=_user(username))
        return Response({"blocked": True}, status=201 if block.created else 200)

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


class VideoListQuery(serializers.Serializer):
    creator = StrictCharField(
        required=False, validators=[UnicodeUsernameValidator()], help_text="Only this user's videos (unknown: 404)."
    )
    feed = serializers.ChoiceField(choices=["following"], required=False, help_text="Only followed creators.")


@extend_schema_view(
    get=extend_schema(parameters=[VideoListQuery]),
    post=extend_schema(responses={201: VideoSerializer, 403: REFUSED}),
)
class VideoListView(generics.ListCreateAPIView):
    serializer_class = VideoSerializer
    pagination_class = NewestFirst

    def get_queryset(self):
        query = VideoListQuery(data=self.request.query_params.dict())  # a plain dict: ``?feed=`` is invalid
        query.is_valid(raise_exception=True)
        creator = query.validated_data.get("creator")
        return selectors.video_list(
            viewer=self.request.user,
            creator=_user(creator) if creator else None,
            following_only="feed" in query.validated_data,
        )

    def perform_create(self, serializer):
        serializer.instance = services.video_create(creator=self.request.user, **serializer.validated_data)


class VideoDetailView(generics.RetrieveAPIView):
    serializer_class = VideoSerializer

    def get_queryset(self):
        return selectors.video_visible(viewer=self.request.user)


def _video(request, video_id: int, *, shown: bool = True) -> Video:
    """The video, or a 404 if the caller may not open it; ``shown=False`` when only acting on it (one query less)."""
    videos = selectors.video_visible(viewer=request.user) if shown else selectors.video_openable(viewer=request.user)
    return get_object_or_404(videos, pk=video_id)


class VideoScopedMixin:
    """Views under /api/videos/{id}/: an unknown or hidden video is a 404 before any complaint about the body."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.video = _video(request, kwargs["pk"], shown=False)


class VideoViewCountView(APIView):
    @extend_schema(request=None, responses={201: VideoSerializer, 200: VideoSerializer})
    def post(self, request, pk):
        video = _video(request, pk, shown=False)
        view = services.video_view_record(video=video, viewer=request.user)
        return Response(VideoSerializer(_video(request, pk)).data, status=201 if view else 200)


class LikeView(APIView):
    @extend_schema(request=None, responses={201: VideoSerializer, 200: VideoSerializer})
    def post(self, request, pk):
        like = services.like_create(user=request.user, video=_video(request, pk, shown=False))
        video = _video(request, pk)
        video.event = like.event
        return Response(VideoSerializer(video).data, status=201 if like.created else 200)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, pk):
        services.like_delete(user=request.user, video=_video(request, pk, shown=False))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(post=extend_schema(responses={201: CommentSerializer, 403: REFUSED}))
class CommentListView(VideoScopedMixin, generics.ListCreateAPIView):
    serializer_class = CommentSerializer
    pagination_class = OldestFirst

    def get_queryset(self):
        return selectors.video_comments(video=self.video)

    def perform_create(self, serializer):
        serializer.instance = services.comment_create(
            author=self.request.user, video=self.video, **serializer.validated_data
        )


class LinkShareSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=[ShareChannel.LINK])
    message = StrictCharField(max_length=MESSAGE_MAX_LENGTH, required=False, allow_blank=True)


class TagShareSerializer(LinkShareSerializer):
    channel = serializers.ChoiceField(choices=[ShareChannel.TAG])
    tagged = serializers.ListField(
        child=serializers.CharField(), min_length=1, max_length=SHARE_MAX_PEOPLE, help_text="Existing usernames."
    )


class DmShareSerializer(LinkShareSerializer):
    channel = serializers.ChoiceField(choices=[ShareChannel.DM])
    recipients = serializers.ListField(
        child=serializers.CharField(), min_length=1, max_length=SHARE_MAX_PEOPLE, help_text="Existing usernames."
    )


SHARE_REQUEST = PolymorphicProxySerializer(
    component_name="NewShare",
    serializers={"link": LinkShareSerializer, "tag": TagShareSerializer, "dm": DmShareSerializer},
    resource_type_field_name="channel",
)


@extend_schema_view(post=extend_schema(request=SHARE_REQUEST, responses={201: ShareSerializer, 403: REFUSED}))
class ShareCreateView(VideoScopedMixin, generics.CreateAPIView):
    serializer_class = ShareSerializer

    def perform_create(self, serializer):
        serializer.instance = services.video_share(
            sharer=self.request.user, video=self.video, **serializer.validated_data
        )


@extend_schema_view(
    post=extend_schema(responses={201: ConversationSerializer, 200: ConversationSerializer, 403: REFUSED})
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


@extend_schema_view(post=extend_schema(responses={201: MessageSerializer, 403: REFUSED}))
class MessageListView(generics.ListCreateAPIView):
    serializer_class = MessageSerializer
    pagination_class = NewestFirst

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # Someone else's conversation is a 404 before any complaint about the body.
        self.conversation = get_object_or_404(selectors.conversations_of(user=request.user), pk=kwargs["pk"])

    def get_queryset(self):
        return selectors.conversation_messages(conversation=self.conversation)

    def perform_create(self, serializer):
        serializer.instance = services.message_send(
            sender=self.request.user, conversation=self.conversation, **serializer.validated_data
        )
