"""QA endpoints: what a QA team needs to test production behaviour without waiting for it."""

from django.conf import settings
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox import batching


class ReleaseHeldView(APIView):
    """Release every held share now, whatever its batch window: staff always, every signed-in user in DEMO_MODE.

    Anyone else gets a 404, so a production deployment does not even show the endpoint exists.
    """

    @extend_schema(
        request=None,
        responses={
            200: inline_serializer("HeldReleased", {"released": serializers.IntegerField()}),
            404: OpenApiResponse(
                inline_serializer("ReleaseHeldNotFound", {"detail": serializers.CharField()}),
                description="Not staff, outside DEMO_MODE: as if the endpoint did not exist.",
            ),
        },
        description=(
            "Release every held anonymous share notification at once (events answer `done` after it). "
            "Staff tokens always; every signed-in user with `DEMO_MODE`; 404 otherwise."
        ),
    )
    def post(self, request):
        if not (settings.DEMO_MODE or request.user.is_staff):
            raise Http404
        return Response({"released": batching.held_shares_release(everything=True)})
