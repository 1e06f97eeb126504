"""Creator tools → Analytics: the Pro dashboard page, and the invitation to switch for everyone else."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from video_platform.services import profile_update

from . import charts, selectors

SORT_CHOICES = [(metric, selectors.METRIC_LABELS[metric]) for metric in selectors.VIDEO_METRICS]


class DashboardQueryForm(forms.Form):
    days = forms.TypedChoiceField(choices=[(n, n) for n in selectors.RANGE_DAYS], coerce=int, required=False)
    sort = forms.ChoiceField(choices=SORT_CHOICES, required=False)


@login_required
def dashboard(request):
    if not request.user.profile.is_pro:
        return render(request, "analytics/dashboard.html", {"is_pro": False})
    query = DashboardQueryForm(request.GET)
    if not query.is_valid():
        return HttpResponseBadRequest(
            f"days must be one of 7, 28 or 60; sort one of {', '.join(selectors.VIDEO_METRICS)}."
        )
    days = query.cleaned_data["days"] or selectors.RANGE_DAYS[0]
    sort = query.cleaned_data["sort"] or "video_views"
    analytics = selectors.creator_analytics(creator=request.user, days=days)
    context = {
        "is_pro": True,
        "analytics": analytics,
        "range_days": selectors.RANGE_DAYS,
        "tiles": [(selectors.METRIC_LABELS[m], analytics["totals"][m]) for m in selectors.METRICS],
        "charts": [
            charts.line_chart(metric=m, label=selectors.METRIC_LABELS[m], daily=analytics["daily"])
            for m in selectors.METRICS
        ],
        "sort": sort,
        "sort_choices": SORT_CHOICES,
        "videos": selectors.videos_ranked(analytics["videos"], by=sort),
    }
    return render(request, "analytics/dashboard.html", context)


@login_required
@require_POST
def pro_switch(request):
    profile_update(user=request.user, is_pro=True)
    return redirect("analytics-dashboard")
