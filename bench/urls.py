"""The product's URLs plus two bench-only views: the framework floor and an offset-paginated inbox."""

from django.urls import include, path
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox.api import InboxView


class FloorView(APIView):
    """The cheapest authenticated DRF endpoint: token lookup, permission check, a tiny JSON body."""

    def get(self, request):
        return Response({"ok": True})

    def post(self, request):
        return Response({"ok": True, "echo": request.data}, status=201)


class OffsetInbox(LimitOffsetPagination):
    default_limit = 20


class OffsetInboxView(InboxView):
    """The same inbox query and serializer, paginated by offset: the contrast to the cursor."""

    pagination_class = OffsetInbox


urlpatterns = [
    path("bench/floor/", FloorView.as_view()),
    path("bench/inbox-offset/", OffsetInboxView.as_view()),
    path("", include("video_platform.urls")),
]
