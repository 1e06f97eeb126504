"""Browser pages of the social core (the inbox pages live in inbox/urls.py)."""

from django.contrib.auth.views import LogoutView
from django.urls import path

from . import views

urlpatterns = [
    path("", views.feed, name="feed"),
    path("login/", views.LoginPage.as_view(), name="login"),
    path("logout/", LogoutView.as_view(next_page="login"), name="logout"),
    path("signup/", views.signup, name="signup"),
    path("switch/", views.demo_switch, name="demo-switch"),
    path("videos/new/", views.video_new, name="video-new"),
    path("videos/<int:pk>/", views.video_detail, name="video"),
    path("videos/<int:pk>/counts/", views.video_counts, name="video-counts"),
    path("videos/<int:pk>/like/", views.video_like, name="video-like"),
    path("videos/<int:pk>/comments/", views.video_comment, name="video-comment"),
    path("videos/<int:pk>/share/", views.share_sheet, name="share-sheet"),
    path("videos/<int:pk>/poster.svg", views.video_poster, name="video-poster"),
    path("videos/<int:pk>/clip/", views.video_clip, name="video-clip"),
    path("u/<str:username>/", views.profile, name="profile"),
    path("u/<str:username>/follow/", views.profile_follow, name="profile-follow"),
    path("u/<str:username>/block/", views.profile_block, name="profile-block"),
    path("messages/", views.conversations, name="conversations"),
    path("messages/<int:pk>/", views.conversation, name="conversation"),
    path("settings/", views.settings_page, name="settings"),
]
