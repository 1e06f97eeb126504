"""Pages of the social core: thin views that validate a form and call one service, as the API does."""

import hashlib
import textwrap
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from . import selectors, services
from .contact_rules import ActionRefused, ContactKind, contact_refusals
from .forms import CommentForm, MessageForm, NewConversationForm, SettingsForm, ShareForm, SignUpForm, VideoForm
from .usernames import username_lookup

User = get_user_model()
FEED_TABS = ("everyone", "following")
PAGE_SIZE = 50
# One viewing: reloads and returns to the same video or profile within this long, in one browser session.
VIEWING_SECONDS = 30 * 60
COUNT_FIELDS = ("view_count", "like_count", "comment_count", "share_count")


def _video(request, pk: int):
    return get_object_or_404(selectors.video_visible(viewer=request.user), pk=pk)


def _add_service_error(form, field: str, error: Exception) -> None:
    """Show a service's refusal or validation error next to the field it is about."""
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            form.add_error(name if name in form.fields else field, errors)
    else:
        form.add_error(field, getattr(error, "messages", None) or str(error))


@login_required
def feed(request):
    tab = request.GET.get("tab") if request.GET.get("tab") in FEED_TABS else "everyone"
    videos = selectors.video_list(viewer=request.user, following_only=tab == "following")
    return render(
        request,
        "platform/feed.html",
        {"videos": videos.order_by("-created_at", "-id")[:PAGE_SIZE], "tab": tab, "tabs": FEED_TABS},
    )


@login_required
def video_new(request):
    form = VideoForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            video = services.video_create(creator=request.user, **form.cleaned_data)
        except (ActionRefused, ValidationError) as error:
            _add_service_error(form, "caption", error)
        else:
            messages.success(request, "Your video is posted.")
            return redirect("video", pk=video.pk)
    return render(request, "platform/video_new.html", {"form": form})


def _video_page(request, video, *, comment_form=None, status=200):
    return render(
        request,
        "platform/video.html",
        {
            "video": video,
            "comments": selectors.video_comments(video=video).order_by("created_at", "id"),
            "comment_form": comment_form or CommentForm(),
        },
        status=status,
    )


def _starts_a_viewing(request, key: str) -> bool:
    """True the first time this session sees ``key`` in VIEWING_SECONDS: a reload is not a new view."""
    now = time.time()
    viewings = {k: t for k, t in request.session.get("viewings", {}).items() if now - t < VIEWING_SECONDS}
    starts = key not in viewings
    if starts:
        viewings[key] = now
    request.session["viewings"] = viewings
    return starts


@login_required
def video_detail(request, pk: int):
    video = _video(request, pk)
    if _starts_a_viewing(request, f"video:{pk}"):
        services.video_view_record(video=video, viewer=request.user)
        video = _video(request, pk)
    return _video_page(request, video)


def _counts_seen(video) -> str:
    return "-".join(str(getattr(video, field)) for field in COUNT_FIELDS)


@login_required
def video_counts(request, pk: int):
    """The open video page's counts, polled: 204 while they are as the page shows them (``seen``)."""
    video = _video(request, pk)
    seen = request.GET.get("seen", "")
    if seen == _counts_seen(video):
        return HttpResponse(status=204)
    before = dict(zip(COUNT_FIELDS, seen.split("-"), strict=False)) if seen else {}
    changed = [field for field in COUNT_FIELDS if before and before.get(field) != str(getattr(video, field))]
    return render(request, "platform/_live_counts.html", {"video": video, "changed": changed})


@login_required
@require_POST
def video_like(request, pk: int):
    video = _video(request, pk)
    if video.liked:
        services.like_delete(user=request.user, video=video)
    else:
        services.like_create(user=request.user, video=video)
    if request.htmx:
        return render(request, "platform/_like_button.html", {"video": _video(request, pk)})
    return redirect("video", pk=pk)


@login_required
@require_POST
def video_comment(request, pk: int):
    video = _video(request, pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.comment_create(author=request.user, video=video, text=form.cleaned_data["text"])
        except (ActionRefused, ValidationError) as error:
            _add_service_error(form, "text", error)
        else:
            return redirect(reverse("video", kwargs={"pk": pk}) + "#comments")
    return _video_page(request, video, comment_form=form, status=400)


def _share_people(request, contacts) -> dict:
    """Each contact with why they can't be tagged or messaged, by the same rule the services enforce."""
    people = list(contacts)
    tag_refused = contact_refusals(actor=request.user, targets=people, kind=ContactKind.TAG)
    dm_refused = contact_refusals(actor=request.user, targets=people, kind=ContactKind.DM)
    return {
        "tag_people": [(person, tag_refused.get(person.pk)) for person in people],
        "dm_people": [(person, dm_refused.get(person.pk)) for person in people],
    }


@login_required
def share_sheet(request, pk: int):
    video = _video(request, pk)
    contacts = selectors.share_contacts(user=request.user)
    form = ShareForm(request.POST or None, contacts=contacts)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.video_share(
                sharer=request.user,
                video=video,
                channel=data["channel"],
                tagged=data["tagged"],
                recipients=data["recipients"],
                message=data["message"],
            )
        except (ActionRefused, ValidationError) as error:
            _add_service_error(form, "tagged" if data["channel"] == "tag" else "recipients", error)
        else:
            done = {"link": "Link copied and shared.", "tag": "Reposted with your tags.", "dm": "Sent to your friends."}
            messages.success(request, done[data["channel"]])
            if request.htmx:
                return HttpResponseClientRedirect(reverse("video", kwargs={"pk": pk}))
            return redirect("video", pk=pk)
    return render(
        request,
        "platform/share_sheet.html",
        {
            "video": video,
            "form": form,
            "video_url": request.build_absolute_uri(reverse("video", kwargs={"pk": pk})),
            **_share_people(request, contacts),
        },
        status=400 if form.errors else 200,
    )


def _poster_palette(video) -> dict:
    digest = hashlib.sha256(f"{video.pk}:{video.caption}".encode()).digest()
    hue = digest[0] * 360 // 256
    return {
        "hue_from": hue,
        "hue_to": (hue + 50 + digest[1] % 120) % 360,
        "circles": [
            {"x": 20 + digest[2 + i] % 230, "y": 30 + digest[5 + i] % 420, "r": 24 + digest[8 + i] % 70}
            for i in range(3)
        ],
        "lines": [(330 + 28 * i, line) for i, line in enumerate(textwrap.wrap(video.caption, 16)[:4])],
    }


@login_required
def video_poster(request, pk: int):
    """A deterministic SVG poster per video, so each one looks distinct without media files."""
    video = _video(request, pk)
    response = render(request, "platform/poster.svg", _poster_palette(video), content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=86400"
    return response


@login_required
def video_clip(request, pk: int):
    """The uploaded file, to viewers who may see the video (served by the app, not a public folder)."""
    video = _video(request, pk)
    if not video.clip:
        raise Http404
    content_type = "video/webm" if video.clip.name.endswith(".webm") else "video/mp4"
    return FileResponse(video.clip.open("rb"), content_type=content_type)


def _user_or_404(users, username: str):
    """The user a path or form names, looked up as the API does (normalised); a name that can name nobody is a 404."""
    name = username_lookup(username)
    if name is None:
        raise Http404
    return get_object_or_404(users, username=name)


@login_required
def profile(request, username: str):
    person = _user_or_404(selectors.users_with_counts(), username)
    if _starts_a_viewing(request, f"profile:{person.pk}"):
        services.profile_view_record(profile_user=person, viewer=request.user)
    return render(
        request,
        "platform/profile.html",
        {
            "person": person,
            "is_me": person.pk == request.user.pk,
            "videos": selectors.video_list(viewer=request.user, creator=person).order_by("-created_at", "-id"),
            **selectors.relationship(viewer=request.user, other=person),
        },
    )


@login_required
@require_POST
def profile_follow(request, username: str):
    person = _user_or_404(User.objects.all(), username)
    try:
        if request.POST.get("action") == "unfollow":
            services.follow_delete(follower=request.user, followee=person)
        else:
            services.follow_create(follower=request.user, followee=person)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("profile", username=person.username)


@login_required
@require_POST
def profile_block(request, username: str):
    person = _user_or_404(User.objects.all(), username)
    try:
        if request.POST.get("action") == "unblock":
            services.block_delete(blocker=request.user, blocked=person)
            messages.success(request, f"You unblocked @{person.username}.")
        else:
            services.block_create(blocker=request.user, blocked=person)
            messages.success(request, f"You blocked @{person.username}. They can't message, tag or mention you.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("profile", username=person.username)


@login_required
def conversations(request):
    form = NewConversationForm(request.POST or None, initial={"username": request.GET.get("to", "")})
    if request.method == "POST" and form.is_valid():
        try:
            conversation, _ = services.conversation_get_or_create(
                creator=request.user, participants=[form.cleaned_data["username"]]
            )
        except (ActionRefused, ValidationError) as error:
            _add_service_error(form, "username", error)
        else:
            return redirect("conversation", pk=conversation.pk)
    return render(
        request,
        "platform/conversations.html",
        {"conversations": selectors.conversations_with_last_message(user=request.user), "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def conversation(request, pk: int):
    chat = get_object_or_404(selectors.conversations_of(user=request.user), pk=pk)
    form = MessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.message_send(sender=request.user, conversation=chat, text=form.cleaned_data["text"])
        except (ActionRefused, ValidationError) as error:
            _add_service_error(form, "text", error)
        else:
            return redirect("conversation", pk=pk)
    polling = request.htmx and request.htmx.target == "chat-messages"
    # The open chat polls too, so it stays live when message notifications are muted; 204 = nothing new.
    after = request.GET.get("after", "")
    if polling and after.isdigit() and len(after) <= 18 and not chat.messages.filter(pk__gt=int(after)).exists():
        return HttpResponse(status=204)
    chat_messages = list(selectors.conversation_messages(conversation=chat).order_by("created_at", "id"))
    last_message_id = chat_messages[-1].pk if chat_messages else 0
    context = {
        "chat": chat,
        "others": [p for p in chat.participants.all() if p.pk != request.user.pk],
        "chat_messages": chat_messages,
        "last_message_id": last_message_id,
        "form": form,
    }
    if polling:
        return render(request, "platform/_chat_list.html", context)
    return render(request, "platform/conversation.html", context, status=400 if form.errors else 200)


@login_required
def settings_page(request):
    form = SettingsForm(request.POST or None, instance=request.user.profile)
    if request.method == "POST" and form.is_valid():
        try:
            services.profile_update(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            _add_service_error(form, "muted_types", error)
        else:
            messages.success(request, "Settings saved.")
            return redirect("settings")
    return render(request, "platform/settings.html", {"form": form}, status=400 if form.errors else 200)


def signup(request):
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_create(**form.cleaned_data)
        except ValidationError as error:
            _add_service_error(form, "username", error)
        else:
            login(request, user)
            return redirect("feed")
    return render(request, "platform/signup.html", {"form": form}, status=400 if form.errors else 200)


def demo_users():
    return User.objects.filter(is_active=True).select_related("profile").order_by("is_staff", "username")[:30]


@require_POST
def demo_switch(request):
    """DEMO_MODE only: act as any user in one click, so a presenter can play every side."""
    if not settings.DEMO_MODE:
        raise Http404
    user = _user_or_404(User.objects.filter(is_active=True), request.POST.get("username", ""))
    login(request, user)
    return redirect("feed")


class LoginPage(LoginView):
    template_name = "platform/login.html"
    redirect_authenticated_user = True
    next_page = "feed"

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs) | {"demo_users": demo_users() if settings.DEMO_MODE else ()}
