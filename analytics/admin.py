from django.contrib import admin

from .models import DailyCreatorStats, DailyVideoStats, RollupDay


@admin.register(DailyVideoStats)
class DailyVideoStatsAdmin(admin.ModelAdmin):
    list_display = ("date", "video", "creator", "video_views", "likes", "comments", "shares")
    list_filter = ("date",)
    search_fields = ("creator__username", "video__caption")
    date_hierarchy = "date"
    list_select_related = ("video", "creator")
    raw_id_fields = ("video", "creator")


@admin.register(DailyCreatorStats)
class DailyCreatorStatsAdmin(admin.ModelAdmin):
    list_display = ("date", "creator", "profile_views", "followers")
    list_filter = ("date",)
    search_fields = ("creator__username",)
    date_hierarchy = "date"
    list_select_related = ("creator",)
    raw_id_fields = ("creator",)


@admin.register(RollupDay)
class RollupDayAdmin(admin.ModelAdmin):
    list_display = ("date", "folded_at", "settled", "raw_pruned_at")
    list_filter = ("settled", ("raw_pruned_at", admin.EmptyFieldListFilter))
    date_hierarchy = "date"
