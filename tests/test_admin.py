import os

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from analytics import services as analytics_services
from inbox import dispatch, stream_log
from inbox.models import Notification
from video_platform import services
from video_platform.models import Block, Comment, Conversation, Event, EventStatus, Message, Share, Video

from .clients import api_client
from .factories import UserFactory, VideoFactory
from .waiting import wait_for_event, wait_until

pytestmark = pytest.mark.django_db
User = get_user_model()
# Every admin page's query count stays under this whatever the number of rows: no N+1.
MAX_QUERIES_PER_PAGE = 15


@pytest.fixture
def build_world(deliver):
    """``build_world(rows)``: ``rows`` of everything the admin lists: users, follows, videos, views, likes,
    comments, shares of every channel, conversations, messages, blocks, events (done and failed) and
    notifications (grouped too)."""

    def build(rows: int) -> dict:
        creator = UserFactory.create(username="cara")
        users = [UserFactory.create() for _ in range(rows)]
        for user in (creator, *users):  # watched inboxes, so the stream log has rows to list too
            stream_log.stream_watched(user_id=user.pk)
        video = services.video_create(creator=creator, caption="Sunrise over the bay")
        for i, user in enumerate(users):
            neighbour = users[(i + 1) % rows]
            services.follow_create(follower=user, followee=creator)
            services.video_create(creator=user, caption=f"clip {i} @cara")
            services.video_view_record(video=video, viewer=user)
            services.profile_view_record(profile_user=creator, viewer=user)
            services.like_create(user=user, video=video)
            services.comment_create(author=user, video=video, text=f"nice one {i}")
            channel = ("link", "tag", "dm")[i % 3]
            services.video_share(
                sharer=user,
                video=video,
                channel=channel,
                tagged=[neighbour] if channel == "tag" else [],
                recipients=[neighbour] if channel == "dm" else [],
                message=f"look {i}",
            )
            conversation, _ = services.conversation_get_or_create(creator=user, participants=[creator])
            services.message_send(sender=user, conversation=conversation, text=f"hello {i}")
        for i, user in enumerate(users):
            services.block_create(blocker=user, blocked=users[(i + 2) % rows])
        Token.objects.bulk_create(Token(user=user, key=Token.generate_key()) for user in users)
        deliver()
        analytics_services.rollup_incremental()
        with override_settings(SHARE_NOTIFICATION_BATCH_SECONDS=600):  # one share held for its batch window
            services.video_share(sharer=creator, video=users[0].videos.get(), channel="link")
            deliver()
        failed = services.like_create(user=creator, video=users[0].videos.get()).event
        dispatch.event_mark_failed(event_id=failed.pk, error="RuntimeError: simulated")
        return {"creator": creator, "users": users, "video": video, "failed_event": failed}

    return build


@pytest.fixture
def superuser(db):
    return UserFactory.create(username="root", is_staff=True, is_superuser=True)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def staff_in_group(name: str, username: str):
    user = UserFactory.create(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=name))
    return user


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def object_to_inspect(model, world):
    if model is Video:
        return world["video"]
    if model is Event:
        return Event.objects.filter(kind="share", status=EventStatus.DONE).order_by("pk").first()
    if model._meta.model_name == "user":
        return world["creator"]
    return model._default_manager.order_by("pk").first()


@pytest.mark.parametrize("rows", [3, 30])
def test_every_admin_page_opens_with_bounded_queries(rows, superuser, django_assert_max_num_queries, build_world):
    world = build_world(rows)
    client = logged_in(superuser)
    for model, model_admin in admin.site._registry.items():
        assert model._default_manager.exists(), f"no {model.__name__} rows to show"
        pages = [admin_url(model, "changelist"), admin_url(model, "change", object_to_inspect(model, world).pk)]
        if model_admin.has_add_permission(client.get(pages[0]).wsgi_request):
            pages.append(admin_url(model, "add"))
        for url in pages:
            with django_assert_max_num_queries(MAX_QUERIES_PER_PAGE, info=url):
                response = client.get(url)
            assert response.status_code == 200, url


def test_admin_is_staff_only_and_sends_others_to_login_without_data(build_world):
    world = build_world(3)
    sharer = Share.objects.filter(channel="link").first().sharer
    member = UserFactory.create(username="just_a_member")
    urls = [
        reverse("admin:index"),
        reverse("admin:inbox_overview"),
        admin_url(Share, "changelist"),
        admin_url(Video, "change", world["video"].pk),
        admin_url(Event, "changelist"),
    ]
    for client in (Client(), logged_in(member)):
        for url in urls:
            response = client.get(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith(reverse("admin:login")), url
            assert sharer.username.encode() not in response.content


def test_support_is_refused_conversations_messages_and_shares(build_world):
    build_world(3)
    client = logged_in(staff_in_group("Support", "sue_support"))
    for model in (Conversation, Message, Share):
        assert client.get(admin_url(model, "changelist")).status_code == 403
        obj = model.objects.first()
        assert client.get(admin_url(model, "change", obj.pk)).status_code == 403
    index = client.get(reverse("admin:index")).content.decode()
    assert admin_url(Conversation, "changelist") not in index
    assert admin_url(Message, "changelist") not in index


def test_support_pages_are_read_only_without_save_buttons_or_actions(build_world):
    world = build_world(3)
    client = logged_in(staff_in_group("Support", "sue_support"))
    pages = [
        admin_url(User, "change", world["creator"].pk),
        admin_url(Video, "change", world["video"].pk),
        admin_url(Comment, "change", Comment.objects.first().pk),
        admin_url(Event, "change", world["failed_event"].pk),
        admin_url(Notification, "change", Notification.objects.first().pk),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        content = response.content.decode()
        assert 'name="_save"' not in content, url
        assert 'name="_continue"' not in content, url
        assert "../password/" not in content, url
    for model in (Video, Event, Notification):
        content = client.get(admin_url(model, "changelist")).content.decode()
        assert 'name="action"' not in content, model
    video_url = admin_url(Video, "change", world["video"].pk)
    assert client.post(video_url, {"caption": "defaced", "is_hidden": "on"}).status_code == 403
    assert Video.objects.get(pk=world["video"].pk).caption == "Sunrise over the bay"


def test_support_does_not_read_direct_message_text_but_a_superuser_does(superuser, deliver):
    creator, friend = UserFactory.create(username="cara"), UserFactory.create(username="fred")
    conversation, _ = services.conversation_get_or_create(creator=friend, participants=[creator])
    services.message_send(sender=friend, conversation=conversation, text="my secret plan")
    deliver()
    notification = Notification.objects.get(recipient=creator, type="message")
    pages = [
        admin_url(Notification, "change", notification.pk),
        admin_url(User, "change", creator.pk),
        admin_url(Event, "change", notification.event_id),
    ]
    support = logged_in(staff_in_group("Support", "sue_support"))
    root = logged_in(superuser)
    for url in pages:
        assert b"my secret plan" not in support.get(url).content, url
        assert b"my secret plan" in root.get(url).content, url


def test_what_the_recipient_sees_in_admin_leaves_out_a_hidden_videos_comment_as_their_inbox_does(superuser, deliver):
    creator, fan = UserFactory.create(username="cara"), UserFactory.create(username="fan")
    video = VideoFactory.create(creator=creator)
    services.comment_create(author=fan, video=video, text="Sunrise looks unreal")
    deliver()
    Video.objects.filter(pk=video.pk).update(is_hidden=True)
    notification = Notification.objects.get(recipient=creator)
    seen = api_client(creator).get(f"/api/inbox/{notification.pk}/").json()["text"]
    assert seen == "@fan commented on your video"
    client = logged_in(superuser)
    for url in (admin_url(Notification, "change", notification.pk), admin_url(User, "change", creator.pk)):
        content = client.get(url).content.decode()
        assert seen in content and "commented: Sunrise" not in content, url


def test_moderator_can_hide_a_video_and_a_comment(build_world):
    world = build_world(3)
    client = logged_in(staff_in_group("Moderator", "mo_moderator"))
    video = world["video"]
    response = client.post(admin_url(Video, "change", video.pk), {"caption": video.caption, "is_hidden": "on"})
    assert response.status_code == 302
    assert Video.objects.get(pk=video.pk).is_hidden
    comment = Comment.objects.first()
    response = client.post(
        admin_url(Comment, "changelist"), {"action": "hide", "_selected_action": [comment.pk]}, follow=True
    )
    assert Comment.objects.get(pk=comment.pk).is_hidden
    assert "Hid 1 comments." in [str(m) for m in response.context["messages"]]
    assert b"Hide selected comments" in response.content and b"Unhide selected comments" in response.content


def test_moderator_can_block_on_a_users_behalf(build_world):
    world = build_world(3)
    client = logged_in(staff_in_group("Moderator", "mo_moderator"))
    blocker, blocked = world["creator"], world["users"][0]
    response = client.post(admin_url(Block, "add"), {"blocker": blocker.pk, "blocked": blocked.pk})
    assert response.status_code == 302
    assert Block.objects.filter(blocker=blocker, blocked=blocked).exists()


def test_rebuild_counts_action_fixes_a_corrupted_count(superuser, build_world):
    world = build_world(3)
    video = world["video"]
    Video.objects.filter(pk=video.pk).update(share_count=99, like_count=0)
    response = logged_in(superuser).post(
        admin_url(Video, "changelist"), {"action": "rebuild_counts", "_selected_action": [video.pk]}, follow=True
    )
    video.refresh_from_db()
    assert (video.share_count, video.like_count) == (3, 3)
    assert [str(m) for m in response.context["messages"]] == [
        f"Recounted 1 video(s): #{video.pk} likes 0→3; #{video.pk} shares 99→3"
    ]


def test_a_share_held_for_its_batch_window_is_no_count_mismatch_on_the_video_page(superuser):
    video = VideoFactory.create()
    with override_settings(SHARE_NOTIFICATION_BATCH_SECONDS=600):
        services.video_share(sharer=UserFactory.create(), video=video, channel="link")
    page = logged_in(superuser).get(admin_url(Video, "change", video.pk)).content.decode()
    assert "counted from rows" in page and "MISMATCH" not in page


def test_mark_read_action_closes_the_group_so_the_next_share_opens_a_new_one(superuser, deliver):
    creator, sharer = UserFactory.create(username="cara"), UserFactory.create(username="sam")
    video = VideoFactory.create(creator=creator)
    services.video_share(sharer=sharer, video=video, channel="link")
    deliver()
    group = Notification.objects.get(recipient=creator, type="share")
    response = logged_in(superuser).post(
        admin_url(Notification, "changelist"), {"action": "mark_read", "_selected_action": [group.pk]}, follow=True
    )
    group.refresh_from_db()
    assert (group.unread, group.group_key) == (False, None)
    assert "Marked 1 notification(s) read" in str(next(iter(response.context["messages"])))
    services.video_share(sharer=sharer, video=video, channel="link")
    deliver()
    assert sorted(Notification.objects.filter(recipient=creator).values_list("count", "unread")) == [
        (1, False),
        (1, True),
    ]


def test_event_page_shows_timing_produced_rows_hidden_actor_and_bumped_group(superuser, deliver):
    creator, tagger, friend = (UserFactory.create(username=n) for n in ("cara", "tina", "fred"))
    video = VideoFactory.create(creator=creator)
    share = services.video_share(sharer=tagger, video=video, channel="tag", tagged=[friend])
    deliver()
    content = logged_in(superuser).get(admin_url(Event, "change", share.event.pk)).content.decode()
    group = Notification.objects.get(recipient=creator, type="share")
    tag = Notification.objects.get(recipient=friend, type="tag")
    assert "notifications it created" in content.lower() and admin_url(Notification, "change", tag.pk) in content
    assert "group rows it bumped (matched, not recorded)" in content.lower()
    assert admin_url(Notification, "change", group.pk) in content
    assert "hidden (anonymous)" in content
    assert "Your video was shared once" in content
    for label in ("written", "last dispatched", "attempt 1", "duration", "done</strong>: 20"):
        assert label in content


def test_event_page_explains_who_was_left_out_and_why(superuser, deliver):
    creator, fan = UserFactory.create(username="cara"), UserFactory.create(username="fan")
    video = VideoFactory.create(creator=creator)
    services.block_create(blocker=creator, blocked=fan)
    like = services.like_create(user=fan, video=video)
    deliver()
    content = logged_in(superuser).get(admin_url(Event, "change", like.event.pk)).content.decode()
    assert "left out: blocked the actor" in content
    assert "none of its own" in content
    assert not Notification.objects.filter(recipient=creator).exists()


def test_user_page_shows_their_inbox_and_unread_counts(superuser, build_world):
    world = build_world(3)
    creator = world["creator"]
    content = logged_in(superuser).get(admin_url(User, "change", creator.pk)).content.decode()
    unread = Notification.objects.filter(recipient=creator, unread=True).count()
    assert f"{unread} unread (shares 1," in content
    assert "Your video was shared 3 times" in content
    assert "and 2 others liked your video" in content


def test_user_page_shows_a_capped_unread_count_as_999_plus(superuser):
    creator, now = UserFactory.create(), timezone.now()
    Notification.objects.bulk_create(
        Notification(recipient=creator, type=kind, category=category, created_at=now, updated_at=now)
        for kind, category, n in (("share", "shares", 1001), ("like", "likes", 2))
        for _ in range(n)
    )
    content = logged_in(superuser).get(admin_url(User, "change", creator.pk)).content.decode()
    assert "999+ unread (shares 999+, mentions 0, messages 0, followers 0, likes 2," in content


def test_user_page_inbox_shows_what_they_see_no_sharer_for_a_share_and_the_tagger_for_a_tag(superuser, deliver):
    creator, linker, tagger, friend = (UserFactory.create(username=n) for n in ("cara", "lin", "tina", "fred"))
    video = VideoFactory.create(creator=creator)
    services.video_share(sharer=linker, video=video, channel="link")
    services.video_share(sharer=tagger, video=video, channel="tag", tagged=[friend])
    deliver()
    client = logged_in(superuser)
    creator_page = client.get(admin_url(User, "change", creator.pk)).content.decode()
    assert "Your video was shared 2 times" in creator_page
    for sharer in (linker, tagger):
        assert admin_url(User, "change", sharer.pk) not in creator_page
        assert f"@{sharer.username}" not in creator_page
    friend_page = client.get(admin_url(User, "change", friend.pk)).content.decode()
    assert "@tina tagged you in a video" in friend_page
    assert admin_url(User, "change", tagger.pk) in friend_page


def test_video_page_lists_sharers_by_channel_labelled_staff_only(superuser, build_world):
    world = build_world(3)
    content = logged_in(superuser).get(admin_url(Video, "change", world["video"].pk)).content.decode()
    assert "Visible to staff only." in content
    assert "Copy link / another app: 1, Repost tagging people: 1, Send to friends: 1" in content
    for user in world["users"]:
        assert admin_url(User, "change", user.pk) in content


def test_overview_page_says_no_worker_answered_when_none_listens(superuser, monkeypatch, settings, build_world):
    from celery import Celery

    # The real broker, on a control exchange no worker listens to: a real ping that nobody answers. Not the
    # current app, or the shared tasks of later tests would bind to it instead of the project's.
    lonely = Celery("nobody-listens", broker=settings.CELERY_BROKER_URL, set_as_current=False)
    lonely.conf.broker_transport_options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    lonely.conf.control_exchange = "shareloop-test-nobody-listens"
    monkeypatch.setattr("inbox.selectors.celery_app", lonely)
    build_world(3)
    content = logged_in(superuser).get(reverse("admin:inbox_overview")).content.decode()
    assert "No worker answered the ping" in content
    assert "Events failed" in content


def test_admin_index_and_event_list_link_the_overview(superuser):
    client = logged_in(superuser)
    for url in (reverse("admin:index"), admin_url(Event, "changelist")):
        assert reverse("admin:inbox_overview") in client.get(url).content.decode(), url


@pytest.mark.django_db(transaction=True)
def test_overview_page_shows_the_running_worker(celery_worker, superuser):
    client = logged_in(superuser)

    def overview() -> str | None:
        content = client.get(reverse("admin:inbox_overview")).content.decode()
        return content if 'id="workers-answering"' in content else None

    content = wait_until(overview, timeout=30, what="the overview to show the worker")
    assert "No worker answered" not in content
    assert f"test-{os.getpid()}@" in content


@pytest.mark.django_db(transaction=True)
def test_redispatch_action_sends_a_failed_event_to_the_worker_which_delivers_it(celery_worker, superuser):
    creator, sharer = UserFactory.create(username="cara"), UserFactory.create(username="sam")
    video = VideoFactory.create(creator=creator)
    with transaction.atomic():
        # As the worker records a crash: the task it is sent on commit then finds nothing pending to do.
        share = services.video_share(sharer=sharer, video=video, channel="link")
        dispatch.event_mark_failed(event_id=share.event.pk, error="RuntimeError: simulated crash")
    done = services.like_create(user=sharer, video=video).event
    wait_for_event(api_client(sharer), done.pk)
    assert Event.objects.get(pk=share.event.pk).status == EventStatus.FAILED

    response = logged_in(superuser).post(
        admin_url(Event, "changelist"),
        {"action": "redispatch", "_selected_action": [share.event.pk, done.pk]},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == [
        "Re-dispatched 1 event(s) to the workers (failed ones set back to pending). Skipped 1 already done."
    ]
    delivered = wait_for_event(api_client(sharer), share.event.pk)
    assert (delivered["status"], delivered["notifications"]) == ("done", 1)
    event = Event.objects.get(pk=share.event.pk)
    assert (event.attempts, event.error) == (2, "")
    inbox = api_client(creator).get("/api/inbox/?category=shares").json()["results"]
    assert [(n["type"], n["count"], n["actor"]) for n in inbox] == [("share", 1, None)]


def test_a_failed_events_page_has_a_redispatch_button_that_support_does_not_get(superuser, build_world):
    world = build_world(3)
    failed = world["failed_event"]
    url = admin_url(Event, "change", failed.pk)
    support = logged_in(staff_in_group("Support", "sue_support"))
    assert 'id="redispatch-event"' not in support.get(url).content.decode()
    assert support.post(reverse("admin:platform_event_redispatch", args=[failed.pk])).status_code == 403
    assert Event.objects.get(pk=failed.pk).status == EventStatus.FAILED

    root = logged_in(superuser)
    assert 'id="redispatch-event"' in root.get(url).content.decode()
    response = root.post(reverse("admin:platform_event_redispatch", args=[failed.pk]), follow=True)
    assert response.redirect_chain[-1][0] == url
    assert "Re-dispatched 1 event(s)" in str(next(iter(response.context["messages"])))
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (EventStatus.PENDING, 2)


@pytest.fixture
def shared_three_ways(deliver) -> dict:
    """cara's video shared by link, by a tag (of fred) and by DM (to rita), by three people who do nothing else."""
    creator, tagged, recipient = (UserFactory.create(username=n) for n in ("cara", "fred", "rita"))
    sharers = [UserFactory.create(username=n) for n in ("sid_linksharer", "tia_tagsharer", "dan_dmsharer")]
    video = VideoFactory.create(creator=creator)
    services.video_share(sharer=sharers[0], video=video, channel="link")
    services.video_share(sharer=sharers[1], video=video, channel="tag", tagged=[tagged])
    conversation, _ = services.conversation_get_or_create(creator=sharers[2], participants=[recipient])
    services.message_send(sender=sharers[2], conversation=conversation, text="look", video=video)
    deliver()
    return {"video": video, "sharers": sharers, "people": [creator, tagged, recipient]}


def pages_that_could_name_a_sharer(world) -> list[str]:
    """Every admin page about the video, its share events and the notifications they caused, the lists
    searched and filtered by each sharer, and the inboxes of the people the shares reached."""
    events = Event.objects.filter(kind="share")
    urls = [
        admin_url(Video, "change", world["video"].pk),
        admin_url(Video, "changelist") + f"?q={world['video'].pk}",
        admin_url(Event, "changelist"),
        admin_url(Event, "changelist") + "?kind__exact=share",
        admin_url(Notification, "changelist"),
        *(admin_url(Event, "change", event.pk) for event in events),
        *(admin_url(Notification, "change", pk) for pk in Notification.objects.values_list("pk", flat=True)),
        *(admin_url(User, "change", person.pk) for person in world["people"]),
    ]
    for sharer in world["sharers"]:
        for model in (Event, Notification):
            urls += [
                admin_url(model, "changelist") + f"?q={sharer.username}",
                admin_url(model, "changelist") + f"?actor__id__exact={sharer.pk}",
                admin_url(model, "changelist") + f"?actor={sharer.pk}",
            ]
    return urls


@pytest.mark.parametrize("role", ["Support", "Moderator"])
def test_support_and_moderator_see_share_counts_by_channel_and_never_a_sharer(role, shared_three_ways):
    world = shared_three_ways
    client = logged_in(staff_in_group(role, f"staff_{role.lower()}"))
    for url in pages_that_could_name_a_sharer(world):
        response = client.get(url)
        assert response.status_code == 200, url
        content = response.content.decode()
        for sharer in world["sharers"]:
            # A search page repeats its own query (search box, filter links): that names nobody.
            content = content.replace(f'value="{sharer.username}"', "").replace(f"q={sharer.username}", "")
            assert sharer.username not in content, (url, sharer.username)
            assert admin_url(User, "change", sharer.pk) not in content, (url, sharer.username)
    video_page = client.get(admin_url(Video, "change", world["video"].pk)).content.decode()
    assert "Copy link / another app: 1, Repost tagging people: 1, Send to friends: 1" in video_page


@pytest.mark.parametrize("role", ["Support", "Moderator"])
def test_support_and_moderator_still_find_a_users_other_events_and_what_recipients_were_shown(
    role, shared_three_ways, deliver
):
    world = shared_three_ways
    tia = world["sharers"][1]
    services.follow_create(follower=tia, followee=world["people"][0])
    deliver()
    client = logged_in(staff_in_group(role, f"staff_{role.lower()}"))
    found = client.get(admin_url(Event, "changelist") + f"?actor__id__exact={tia.pk}").content.decode()
    assert (found.count(admin_url(Event, "change", Event.objects.get(kind="follow").pk)), "1 event") == (1, "1 event")
    fred_page = client.get(admin_url(User, "change", world["people"][1].pk)).content.decode()
    assert "Someone tagged you in a video" in fred_page


def test_a_superuser_sees_every_sharer_in_admin(superuser, shared_three_ways):
    world = shared_three_ways
    client = logged_in(superuser)
    video_page = client.get(admin_url(Video, "change", world["video"].pk)).content.decode()
    for sharer in world["sharers"]:
        assert admin_url(User, "change", sharer.pk) in video_page
        search = client.get(admin_url(Event, "changelist") + f"?q={sharer.username}").content.decode()
        event = Event.objects.get(kind="share", actor=sharer)
        assert admin_url(Event, "change", event.pk) in search
        event_page = client.get(admin_url(Event, "change", event.pk)).content.decode()
        assert admin_url(User, "change", sharer.pk) in event_page
    fred_page = client.get(admin_url(User, "change", world["people"][1].pk)).content.decode()
    assert "@tia_tagsharer tagged you in a video" in fred_page
