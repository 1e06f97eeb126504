from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from inbox import api as inbox_api
from qa import api as qa_api

from . import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("inbox.urls")),
    path("", include("video_platform.page_urls")),
    path("api/auth/token/", api.TokenLoginView.as_view(), name="api-token"),
    path("api/users/", api.SignUpView.as_view(), name="api-signup"),
    path("api/users/<str:username>/", api.ProfileView.as_view(), name="api-profile"),
    path("api/users/<str:username>/views/", api.ProfileViewCountView.as_view(), name="api-profile-views"),
    path("api/users/<str:username>/follow/", api.FollowView.as_view(), name="api-follow"),
    path("api/users/<str:username>/block/", api.BlockView.as_view(), name="api-block"),
    path("api/me/", api.MeView.as_view(), name="api-me"),
    path("api/videos/", api.VideoListView.as_view(), name="api-videos"),
    path("api/videos/<int:pk>/", api.VideoDetailView.as_view(), name="api-video"),
    path("api/videos/<int:pk>/views/", api.VideoViewCountView.as_view(), name="api-video-views"),
    path("api/videos/<int:pk>/likes/", api.LikeView.as_view(), name="api-video-likes"),
    path("api/videos/<int:pk>/comments/", api.CommentListView.as_view(), name="api-video-comments"),
    path("api/videos/<int:pk>/shares/", api.ShareCreateView.as_view(), name="api-video-shares"),
    path("api/conversations/", api.ConversationListView.as_view(), name="api-conversations"),
    path("api/conversations/<int:pk>/messages/", api.MessageListView.as_view(), name="api-messages"),
    path("api/inbox/", inbox_api.InboxView.as_view(), name="api-inbox"),
    path("api/inbox/read-all/", inbox_api.ReadAllView.as_view(), name="api-inbox-read-all"),
    path("api/inbox/unread-count/", inbox_api.UnreadCountView.as_view(), name="api-inbox-unread-count"),
    path("api/inbox/<int:pk>/", inbox_api.NotificationDetailView.as_view(), name="api-notification"),
    path("api/inbox/<int:pk>/read/", inbox_api.NotificationReadView.as_view(), name="api-notification-read"),
    path("api/events/<int:pk>/", inbox_api.EventDetailView.as_view(), name="api-event"),
    path("api/qa/release-held/", qa_api.ReleaseHeldView.as_view(), name="api-qa-release-held"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # OPTIONS would answer DRF metadata through the page's template renderer, a 500.
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="api-schema", http_method_names=["get", "head"]),
        name="api-docs",
    ),
    path("", include("analytics.urls")),
]
