"""The inbox pages and the live stream."""

from django.urls import path

from . import stream, views

urlpatterns = [
    path("api/inbox/stream/", stream.inbox_stream, name="api-inbox-stream"),
    path("inbox/", views.inbox_page, name="inbox"),
    path("inbox/badge/", views.inbox_badge, name="inbox-badge"),
    path("inbox/read-all/", views.inbox_read_all, name="inbox-read-all"),
    path("inbox/demo/batching/", views.share_batching_set, name="demo-share-batching"),
    path("staff/share-groups/<int:pk>/", views.share_group_staff_view, name="staff-share-group"),
    path("inbox/<int:pk>/", views.notification_detail, name="notification"),
    path("inbox/<int:pk>/read/", views.notification_read, name="notification-read"),
    path("inbox/chats/<int:conversation_id>/read/", views.conversation_read, name="inbox-read-conversation"),
]
