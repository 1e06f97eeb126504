"""Inbox API: notifications, read state, unread counts and event status."""

import dataclasses

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from video_platform.api import RecentlyUpdatedFirst, UserBriefSerializer, VideoBriefSerializer
from video_platform.models import Event
from video_platform.notification_types import INBOX_FILTERS

from . import reading, rendering, selectors, stream_log
from .models import Notification


class NotificationVideoSerializer(VideoBriefSerializer):
    caption = serializers.CharField(read_only=True, help_text="Empty once a moderator has hidden the video.")


# A notification as the API answers it. The fields are rendering.RenderedNotification's, described here for the
# schema; every value is the renderer's: a row of rendering.NOTIFICATION_ROW in, its JSON out.
class NotificationSerializer(serializers.ModelSerializer):
    text = serializers.CharField(read_only=True)
    actor = UserBriefSerializer(read_only=True, allow_null=True, help_text="Who acted; always null for `share`.")
    video = NotificationVideoSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Notification
        fields = tuple(field.name for field in dataclasses.fields(rendering.RenderedNotification))
        extra_kwargs = {
            "count": {
                "help_text": "How many times the video was shared, or how many people liked it, while this group "
                "was open (unread): a count of what happened, not the video's current count. An unlike later "
                "does not take a delivered like back, and liking again after an unlike adds nothing."
            }
        }

    def to_representation(self, row: rendering.NotificationRow) -> dict:
        return rendering.notification_json(row)


class UnreadCountSerializer(serializers.Serializer):
    total = serializers.IntegerField(
        min_value=0, max_value=selectors.UNREAD_COUNT_CAP, help_text="Unread notifications, exact up to 999."
    )
    by_category = serializers.DictField(
        child=serializers.IntegerField(min_value=0, max_value=selectors.UNREAD_COUNT_CAP),
        help_text="Unread notifications per category, each exact up to 999; every category is present.",
    )
    capped = serializers.BooleanField(
        help_text="True when there are more than 999 unread: `total` is then 999, and a category at 999 may "
        "have more (show them as 999+). A number below 999 is always exact."
    )


class EventSerializer(serializers.ModelSerializer):
    notifications = serializers.IntegerField(source="notification_count")

    class Meta:
        model = Event
        fields = ("id", "kind", "status", "release_at", "created_at", "done_at", "notifications")


class CategoryQuery(serializers.Serializer):
    category = serializers.ChoiceField(choices=INBOX_FILTERS, required=False, help_text="The inbox tab.")


class InboxQuery(CategoryQuery):
    unread = serializers.ChoiceField(
        choices=["true", "false", "1", "0"], required=False, help_text="Only unread (true, 1) or read (false, 0) ones."
    )
    since = serializers.IntegerField(
        min_value=0,
        required=False,
        help_text="Only notifications created or bumped after this point: the `stream_position` of an earlier "
        "answer, or an `id:` from the stream. The log is kept while your inbox is watched (an open stream, a page "
        "read) and for the replay window after (10 minutes by default): a point ahead of the stream or from before "
        "that is a 400.",
    )


class InboxPages(RecentlyUpdatedFirst):
    """The inbox's pages, each with the stream position read before its rows: ``?since=`` that later returns
    whatever a walk through the pages missed because it moved up (a bumped group) or arrived meanwhile."""

    def paginate_queryset(self, queryset, request, view=None):
        self.stream_position = selectors.inbox_stream_position(user=request.user)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["stream_position"] = self.stream_position
        return response

    def get_paginated_response_schema(self, schema):
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"]["stream_position"] = {
            "type": "integer",
            "description": "Where the caller's stream stood when this page was read; pass it as `since` later "
            "to get what was created or bumped after.",
        }
        paginated["required"] = [*paginated.get("required", ()), "stream_position"]
        return paginated


def query_params(serializer_class, request) -> dict:
    """Validated query parameters; a plain dict, so ``?unread=`` is an invalid choice, not "absent"."""
    query = serializer_class(data=request.query_params.dict())
    query.is_valid(raise_exception=True)
    return query.validated_data


SINCE_UNANSWERABLE = (
    "Not a point your stream's log can answer from (ahead of it, or from before its replay window): "
    "read the inbox from the top and keep its `stream_position`."
)


@extend_schema_view(get=extend_schema(parameters=[InboxQuery]))
class InboxView(generics.ListAPIView):
    serializer_class = NotificationSerializer
    queryset = Notification.objects.none()  # tells the schema generator the model; get_queryset serves
    pagination_class = InboxPages

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user, just the model
            return Notification.objects.none()
        query = query_params(InboxQuery, self.request)
        unread, since, user = query.get("unread"), query.get("since"), self.request.user
        # A client that pages holds a `stream_position` to ask `since` with: its log is kept from here on.
        stream_log.stream_watched(user_id=user.pk)
        if since is not None and not selectors.inbox_stream_replayable_after(user=user, seq=since):
            raise serializers.ValidationError({"since": [SINCE_UNANSWERABLE]})
        return selectors.inbox_notification_rows(
            user=user,
            category=query.get("category"),
            unread=None if unread is None else unread in ("true", "1"),
            changed_after=since,
        )


class NotificationDetailView(generics.RetrieveAPIView):
    serializer_class = NotificationSerializer

    def get_queryset(self):
        return selectors.inbox_notification_rows(user=self.request.user)


class NotificationReadView(APIView):
    @extend_schema(request=None, responses=NotificationSerializer)
    def post(self, request, pk):
        notification = get_object_or_404(selectors.inbox_notifications(user=request.user), pk=pk)
        reading.notification_mark_read(notification=notification)
        return Response(NotificationSerializer(selectors.inbox_notification_rows(user=request.user).get(pk=pk)).data)


class ReadAllView(APIView):
    @extend_schema(request=None, parameters=[CategoryQuery], responses=UnreadCountSerializer)
    def post(self, request):
        category = query_params(CategoryQuery, request).get("category")
        reading.notifications_mark_all_read(user=request.user, category=category)
        return Response(selectors.inbox_unread_counts(user=request.user))


class UnreadCountView(APIView):
    @extend_schema(responses=UnreadCountSerializer)
    def get(self, request):
        return Response(selectors.inbox_unread_counts(user=request.user))


class EventDetailView(generics.RetrieveAPIView):
    serializer_class = EventSerializer

    def get_queryset(self):
        return selectors.events_visible(user=self.request.user)
