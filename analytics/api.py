"""GET /api/analytics/: a Pro creator's own aggregate figures. Counts only, never who."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors

NOT_PRO_DETAIL = (
    'Analytics is for Pro accounts. Switching is free: PATCH /api/me/ with {"is_pro": true}, '
    "or turn on Pro in Settings."
)


class IsPro(BasePermission):
    message = NOT_PRO_DETAIL

    def has_permission(self, request, view) -> bool:
        return request.user.profile.is_pro


class AnalyticsQuerySerializer(serializers.Serializer):
    days = serializers.ChoiceField(choices=selectors.RANGE_DAYS, default=selectors.RANGE_DAYS[0])


class AnalyticsVideoSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    caption = serializers.CharField()
    video_views = serializers.IntegerField()
    likes = serializers.IntegerField()
    comments = serializers.IntegerField()
    shares = serializers.IntegerField()


class AnalyticsTotalsSerializer(serializers.Serializer):
    video_views = serializers.IntegerField()
    profile_views = serializers.IntegerField()
    likes = serializers.IntegerField()
    comments = serializers.IntegerField()
    shares = serializers.IntegerField()
    followers = serializers.IntegerField(help_text="New followers.")


class AnalyticsDaySerializer(AnalyticsTotalsSerializer):
    date = serializers.DateField()


class AnalyticsSerializer(serializers.Serializer):
    days = serializers.IntegerField()
    totals = AnalyticsTotalsSerializer()
    daily = AnalyticsDaySerializer(many=True, help_text="Exactly `days` entries, oldest first, ending today (UTC).")
    videos = AnalyticsVideoSerializer(many=True)


class AnalyticsView(APIView):
    permission_classes = [IsAuthenticated, IsPro]

    @extend_schema(
        parameters=[OpenApiParameter("days", int, enum=list(selectors.RANGE_DAYS), default=selectors.RANGE_DAYS[0])],
        responses={
            200: AnalyticsSerializer,
            400: OpenApiResponse(description="`days` is not 7, 28 or 60."),
            403: OpenApiResponse(description="Not a Pro account; `detail` says how to switch."),
        },
        description="Totals, a zero-filled daily series ending today (UTC) and per-video rows. Pro only (else 403).",
    )
    def get(self, request):
        query = AnalyticsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        analytics = selectors.creator_analytics(creator=request.user, days=query.validated_data["days"])
        return Response(AnalyticsSerializer(analytics).data)
