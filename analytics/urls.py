from django.urls import path

from . import api, views

urlpatterns = [
    path("api/analytics/", api.AnalyticsView.as_view(), name="api-analytics"),
    path("analytics/", views.dashboard, name="analytics-dashboard"),
    path("analytics/pro/", views.pro_switch, name="analytics-pro-switch"),
]
