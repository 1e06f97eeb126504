"""Inbox pages. Every notification is rendered by inbox.rendering from the same row as the API's JSON, so a
page can show no more about an actor than the privacy policy lets the API show."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from video_platform import selectors as platform_selectors
from video_platform.notification_types import INBOX_FILTERS

from . import batching, reading, rendering, selectors
from .models import Notification

PAGE_SIZE = 50
CATEGORY_LABELS = {category: category.title() for category in INBOX_FILTERS}


def _category(request) -> str:
    category = request.GET.get("category") or request.POST.get("category")
    return category if category in INBOX_FILTERS else "all"


def _inbox_url(category: str, page: int) -> str:
    params = ([f"category={category}"] if category != "all" else []) + ([f"page={page}"] if page > 1 else [])
    return reverse("inbox") + ("?" + "&".join(params) if params else "")


@login_required
def inbox_page(request):
    category = _category(request)
    page = request.GET.get("page", "")
    page = int(page) if page.isdigit() and len(page) <= 6 else 1
    notifications = selectors.inbox_notification_rows(user=request.user, category=category)
    notifications = notifications.order_by("-updated_at", "-id")
    shown = list(notifications[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1]) if page > 0 else []
    if page != 1 and not shown:
        return redirect(_inbox_url(category, 1))  # past the end: the newest instead
    counts = selectors.inbox_unread_counts(user=request.user)
    unread = counts["by_category"] | {"all": counts["total"]}
    labels = {c: selectors.unread_count_label(n, capped=counts["capped"]) if n else "" for c, n in unread.items()}
    context = {
        "category": category,
        "category_label": CATEGORY_LABELS[category],
        "tabs": [(c, CATEGORY_LABELS[c], labels[c]) for c in INBOX_FILTERS],
        "items": [rendering.notification_render(row) for row in shown[:PAGE_SIZE]],
        "unread_in_category": unread[category],
        "this_url": _inbox_url(category, page),
        "newer_url": _inbox_url(category, page - 1) if page > 1 else None,
        "older_url": _inbox_url(category, page + 1) if len(shown) > PAGE_SIZE else None,
    }
    if request.htmx and request.htmx.target == "inbox-live":
        return render(request, "inbox/_live.html", context)
    return render(request, "inbox/inbox.html", context | {"demo_batching": _demo_batching()})


def _demo_batching() -> dict | None:
    """DEMO_MODE: the batching switch's state, as a schedule only (never how many shares are waiting)."""
    if not settings.DEMO_MODE:
        return None
    return {"seconds": batching.share_batch_seconds(), "demo_seconds": batching.DEMO_BATCH_SECONDS}


def share_group_staff_view(request, pk: int):
    """Staff who may see shares (superusers, or the platform.view_share permission; never the Support role):
    one creator's share group as the platform knows it — sharers, channels, times — beside what the creator
    sees. Anyone else gets a 404, as for any id they may not see."""
    user = request.user
    if not (user.is_active and user.is_staff and user.has_perm("platform.view_share")):
        raise Http404
    notification = get_object_or_404(Notification.objects.select_related("recipient", "video"), pk=pk, type="share")
    creator_row = selectors.inbox_notification_rows(user=notification.recipient).get(pk=pk)
    return render(
        request,
        "inbox/share_group_staff.html",
        {
            "notification": notification,
            "creator_view": rendering.notification_render(creator_row),
            "sources": selectors.share_group_sources(notification=notification),
            "title": "Share group: what the platform knows",
        },
    )


@login_required
@require_POST
def share_batching_set(request):
    """DEMO_MODE only: a presenter turns share batching on (a short window) or off."""
    if not settings.DEMO_MODE:
        raise Http404
    seconds = batching.DEMO_BATCH_SECONDS if request.POST.get("batching") == "on" else 0
    batching.share_batch_seconds_set(seconds=seconds)
    return redirect("inbox")


@login_required
def inbox_badge(request):
    return render(request, "inbox/_badge.html", {"unread": selectors.inbox_unread_counts(user=request.user)})


@login_required
def notification_detail(request, pk: int):
    """ "Tap for details": opening a notification reads it; a share shows the video and counts, never who."""
    notification = get_object_or_404(selectors.inbox_notifications(user=request.user), pk=pk)
    reading.notification_mark_read(notification=notification)
    video = None
    if notification.video_id:
        # A hidden video's card is left out even for its creator: its caption leaves every inbox page.
        videos = platform_selectors.video_visible(viewer=request.user).filter(is_hidden=False)
        video = videos.filter(pk=notification.video_id).first()
    item = rendering.notification_render(selectors.inbox_notification_rows(user=request.user).get(pk=pk))
    return render(request, "inbox/detail.html", {"item": item, "video": video, "is_share": item.anonymous})


def _back_to_inbox(category: str):
    return redirect(reverse("inbox") + ("" if category == "all" else f"?category={category}"))


@login_required
@require_POST
def notification_read(request, pk: int):
    notification = get_object_or_404(selectors.inbox_notifications(user=request.user), pk=pk)
    reading.notification_mark_read(notification=notification)
    return _back_to_inbox(_category(request))


@login_required
@require_POST
def conversation_read(request, conversation_id: int):
    """The open chat reads its messages: their notifications leave the unread counts."""
    get_object_or_404(platform_selectors.conversations_of(user=request.user), pk=conversation_id)
    unread = selectors.inbox_notifications(user=request.user, category="messages", unread=True)
    ids = unread.filter(conversation_id=conversation_id).values_list("pk", flat=True)
    reading.notifications_mark_read(notification_ids=list(ids))
    return HttpResponse(status=204)


@login_required
@require_POST
def inbox_read_all(request):
    category = _category(request)
    reading.notifications_mark_all_read(user=request.user, category=category)
    return _back_to_inbox(category)
