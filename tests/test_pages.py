"""Server-rendered pages through Django's test client. Delivery is done in this process by the ``deliver``
fixture (these tests don't run a worker; tests/test_browser.py does)."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Group
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from inbox.batching import held_shares_release, share_batch_seconds
from inbox.models import Notification
from inbox.views import PAGE_SIZE
from video_platform import services
from video_platform.error_pages import FriendlyErrorPagesMiddleware
from video_platform.models import CLIP_MAX_BYTES, Block, Event, Follow, ProfileView, Share, Video
from video_platform.views import VIEWING_SECONDS

from .factories import PASSWORD, UserFactory, VideoFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


def browser(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def creator_pages(creator, video) -> list[str]:
    notifications = Notification.objects.filter(recipient=creator).values_list("pk", flat=True)
    return [
        "/",
        "/?tab=following",
        "/inbox/",
        "/inbox/?category=shares",
        "/inbox/badge/",
        f"/videos/{video.pk}/",
        f"/videos/{video.pk}/share/",
        f"/u/{creator.username}/",
        "/messages/",
        "/settings/",
        *(f"/inbox/{pk}/" for pk in notifications),
    ]


def test_pages_send_anonymous_visitors_to_log_in():
    response = browser().get("/inbox/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/inbox/"


def test_login_with_password_opens_the_feed():
    user = UserFactory.create(username="lena")
    response = browser().post("/login/", {"username": "lena", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert response.context["user"] == user


def test_demo_switcher_logs_in_as_any_user_in_demo_mode(settings):
    settings.DEMO_MODE = True
    UserFactory.create(username="dora", display_name="Dora Demo")
    client = browser()
    assert "Dora Demo" in client.get("/login/").content.decode()
    response = client.post("/switch/", {"username": "dora"}, follow=True)
    assert response.context["user"].username == "dora"


def test_demo_switcher_is_absent_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    UserFactory.create(username="dora", display_name="Dora Demo")
    assert "Dora Demo" not in browser().get("/login/").content.decode()
    assert browser().post("/switch/", {"username": "dora"}).status_code == 404


def test_signup_creates_the_account_and_logs_in():
    form = {"username": "nina", "display_name": "Nina N", "password": "a-long-passphrase-9"}
    response = browser().post("/signup/", form)
    assert response.status_code == 302
    assert User.objects.get(username="nina").profile.display_name == "Nina N"


def test_signup_errors_show_next_to_the_field_and_save_nothing():
    UserFactory.create(username="taken")
    response = browser().post("/signup/", {"username": "taken", "password": "123"})
    assert response.status_code == 400
    assert response.context["form"].errors["username"] == ["That username is taken."]
    response = browser().post("/signup/", {"username": "fresh", "password": "123"})
    assert response.status_code == 400
    assert "password" in response.context["form"].errors
    assert 'class="field has-error"' in response.content.decode()
    assert not User.objects.filter(username="fresh").exists()


def test_posting_a_video_creates_it_and_its_poster_is_deterministic():
    user = UserFactory.create()
    response = browser(user).post("/videos/new/", {"caption": "Morning surf"})
    video = Video.objects.get(creator=user)
    assert response["Location"] == f"/videos/{video.pk}/"
    first = browser(user).get(f"/videos/{video.pk}/poster.svg")
    assert first["Content-Type"] == "image/svg+xml"
    assert first.content == browser(user).get(f"/videos/{video.pk}/poster.svg").content
    assert b"Morning surf" in first.content


MP4_HEAD = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"


def test_posting_a_small_clip_serves_it_on_the_video_page():
    user = UserFactory.create()
    clip = SimpleUploadedFile("holiday.mov", MP4_HEAD + b"\x00" * 64, content_type="video/quicktime")
    browser(user).post("/videos/new/", {"caption": "With a clip", "clip": clip})
    video = Video.objects.get(creator=user)
    page = browser(user).get(f"/videos/{video.pk}/").content.decode()
    assert f'<video class="poster poster-large" src="/videos/{video.pk}/clip/"' in page
    served = browser(UserFactory.create()).get(f"/videos/{video.pk}/clip/")
    assert served["Content-Type"] == "video/mp4"
    assert b"".join(served.streaming_content).startswith(MP4_HEAD)


@pytest.mark.parametrize(
    ("upload", "error"),
    [
        (SimpleUploadedFile("notes.mp4", b"just some text, not a video"), "That isn't an MP4 or WebM video."),
        (
            SimpleUploadedFile("big.mp4", MP4_HEAD + b"\x00" * CLIP_MAX_BYTES),
            "That file is too big: the limit is 5 MB.",
        ),
    ],
)
def test_posting_a_bad_clip_shows_the_reason_and_saves_nothing(upload, error):
    user = UserFactory.create()
    response = browser(user).post("/videos/new/", {"caption": "Bad clip", "clip": upload})
    assert response.context["form"].errors["clip"] == [error]
    assert not Video.objects.exists()


def test_posting_with_a_refused_mention_shows_the_reason_and_saves_nothing():
    user = UserFactory.create()
    closed = UserFactory.create(username="closed")
    closed.profile.tag_policy = "nobody"
    closed.profile.save()
    response = browser(user).post("/videos/new/", {"caption": "hi @closed"})
    assert response.status_code == 200
    assert response.context["form"].errors["caption"] == ["You can't tag or mention @closed: they don't allow it."]
    assert not Video.objects.filter(creator=user).exists()
    assert not Event.objects.exists()


def test_forms_refuse_posts_without_csrf_token():
    user = UserFactory.create()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post("/videos/new/", {"caption": "no token"}).status_code == 403
    assert not Video.objects.exists()


def test_share_sheet_shows_blocked_and_policy_refused_people_as_unavailable():
    sharer = UserFactory.create()
    friend, blocker, private = UserFactory.create_batch(3)
    for person in (friend, blocker, private):
        Follow.objects.create(follower=sharer, followee=person)
    Block.objects.create(blocker=blocker, blocked=sharer)
    private.profile.dm_policy = "nobody"
    private.profile.save()
    video = VideoFactory.create()

    page = browser(sharer).get(f"/videos/{video.pk}/share/")

    assert dict(page.context["tag_people"]) == {
        friend: None,
        blocker: f"You can't tag or mention @{blocker.username}: they have blocked you.",
        private: None,
    }
    assert dict(page.context["dm_people"])[private] == (
        f"You can't send direct messages to @{private.username}: they don't allow it."
    )
    html = page.content.decode()
    assert f'id="tagged-{blocker.username}" disabled' in html
    assert f'id="recipients-{private.username}" disabled' in html
    assert f'id="tagged-{friend.username}" disabled' not in html


def test_sharing_to_a_refused_person_shows_the_reason_and_saves_nothing():
    sharer = UserFactory.create()
    blocker = UserFactory.create()
    Follow.objects.create(follower=sharer, followee=blocker)
    Block.objects.create(blocker=blocker, blocked=sharer)
    video = VideoFactory.create()

    page = browser(sharer).post(f"/videos/{video.pk}/share/", {"channel": "tag", "tagged": [blocker.username]})

    assert page.status_code == 400
    assert page.context["form"].errors["tagged"] == [
        f"You can't tag or mention @{blocker.username}: they have blocked you."
    ]
    assert not Share.objects.exists()
    video.refresh_from_db()
    assert video.share_count == 0


@pytest.mark.parametrize(
    ("channel", "field", "error"),
    [
        ("tag", "tagged", "A tag share needs at least one tagged user."),
        ("dm", "recipients", "A DM share needs at least one recipient."),
    ],
    ids=["tag", "dm"],
)
def test_share_sheet_shows_the_share_services_error_when_nobody_is_picked_for_tag_or_dm(channel, field, error):
    sharer = UserFactory.create()
    video = VideoFactory.create()
    page = browser(sharer).post(f"/videos/{video.pk}/share/", {"channel": channel})
    assert page.status_code == 400
    assert page.context["form"].errors[field] == [error]
    assert not Share.objects.exists()


@pytest.mark.parametrize(
    "share",
    [
        {"channel": "link"},
        {"channel": "tag", "tagged": ["friend_of_sam"]},
        {"channel": "dm", "recipients": ["friend_of_sam"], "message": "look"},
    ],
    ids=["link", "tag-someone-else", "dm-someone-else"],
)
def test_creator_pages_never_contain_a_sharer_who_did_not_tag_or_message_them(share, deliver):
    creator = UserFactory.create(username="cara_creates")
    sharer = UserFactory.create(username="sam_the_sharer", display_name="Samantha Sharewell")
    Follow.objects.create(follower=sharer, followee=UserFactory.create(username="friend_of_sam"))
    video = VideoFactory.create(creator=creator)
    assert browser(sharer).post(f"/videos/{video.pk}/share/", share).status_code == 302
    deliver()
    assert Notification.objects.get(recipient=creator).type == "share"

    for url in creator_pages(creator, video):
        response = browser(creator).get(url)
        assert response.status_code == 200, url
        page = response.content.decode() + str(response.headers)
        assert "sam_the_sharer" not in page, url
        assert "Samantha" not in page, url
    inbox = browser(creator).get("/inbox/").content.decode()
    assert "Your video was shared once" in inbox


def test_tag_and_dm_shares_name_the_sharer_to_the_people_they_reach(deliver):
    sharer = UserFactory.create(username="sam_the_sharer")
    tagged, recipient = UserFactory.create_batch(2)
    for person in (tagged, recipient):
        Follow.objects.create(follower=sharer, followee=person)
    video = VideoFactory.create()
    client = browser(sharer)
    client.post(f"/videos/{video.pk}/share/", {"channel": "tag", "tagged": [tagged.username]})
    client.post(f"/videos/{video.pk}/share/", {"channel": "dm", "recipients": [recipient.username], "message": "look!"})
    deliver()

    assert "@sam_the_sharer tagged you in a video" in browser(tagged).get("/inbox/").content.decode()
    assert "@sam_the_sharer sent you a message: look!" in browser(recipient).get("/inbox/").content.decode()
    chat = Notification.objects.get(recipient=recipient).conversation
    page = browser(recipient).get(f"/messages/{chat.pk}/").content.decode()
    assert video.caption in page and "look!" in page


def test_inbox_tabs_filter_by_category(deliver):
    creator = UserFactory.create()
    video = VideoFactory.create(creator=creator)
    browser(UserFactory.create()).post(f"/videos/{video.pk}/share/", {"channel": "link"})
    browser(UserFactory.create(username="fiona")).post(f"/u/{creator.username}/follow/")
    deliver()

    shares = browser(creator).get("/inbox/?category=shares").context["items"]
    followers = browser(creator).get("/inbox/?category=followers").context["items"]
    assert [n.type for n in shares] == ["share"]
    assert [n.text for n in followers] == ["@fiona started following you"]
    assert "Nothing here yet" in browser(creator).get("/inbox/?category=likes").content.decode()


def _unread_shares(user, n: int) -> None:
    video, now = VideoFactory.create(creator=user), timezone.now()
    Notification.objects.bulk_create(
        Notification(recipient=user, type="share", category="shares", video=video, created_at=now, updated_at=now)
        for _ in range(n)
    )


def test_badge_and_tabs_show_999_plus_past_the_cap():
    creator = UserFactory.create()
    _unread_shares(creator, 1001)
    badge = '<span class="badge" data-testid="unread-badge">999+</span>'
    assert badge in browser(creator).get("/inbox/badge/").content.decode()
    page = browser(creator).get("/inbox/")
    assert badge in page.content.decode()
    tabs = [(value, shown) for value, _, shown in page.context["tabs"] if shown]
    assert tabs == [("all", "999+"), ("shares", "999+")]


def test_badge_shows_999_exactly_below_the_cap():
    creator = UserFactory.create()
    _unread_shares(creator, 999)
    page = browser(creator).get("/inbox/")
    assert '<span class="badge" data-testid="unread-badge">999</span>' in page.content.decode()
    assert [(value, shown) for value, _, shown in page.context["tabs"] if shown] == [("all", "999"), ("shares", "999")]


def test_grouped_shares_read_as_one_item_with_the_count(deliver):
    creator = UserFactory.create()
    video = VideoFactory.create(creator=creator)
    for sharer in UserFactory.create_batch(3):
        browser(sharer).post(f"/videos/{video.pk}/share/", {"channel": "link"})
    deliver()
    items = browser(creator).get("/inbox/").context["items"]
    assert [(n.text, n.count) for n in items] == [("Your video was shared 3 times", 3)]


def test_mark_one_then_all_read(deliver):
    creator = UserFactory.create()
    video = VideoFactory.create(creator=creator)
    for fan in UserFactory.create_batch(2):
        browser(fan).post(f"/u/{creator.username}/follow/")
    browser(UserFactory.create()).post(f"/videos/{video.pk}/share/", {"channel": "link"})
    deliver()
    client = browser(creator)
    first = Notification.objects.filter(recipient=creator, type="follow").first()

    assert client.post(f"/inbox/{first.pk}/read/")["Location"] == "/inbox/"
    assert Notification.objects.filter(recipient=creator, unread=True).count() == 2
    assert client.post("/inbox/read-all/", {"category": "shares"})["Location"] == "/inbox/?category=shares"
    still_unread = Notification.objects.filter(recipient=creator, unread=True)
    assert list(still_unread.values_list("type", flat=True)) == ["follow"]
    client.post("/inbox/read-all/")
    assert not Notification.objects.filter(recipient=creator, unread=True).exists()
    assert 'data-testid="unread-badge"' not in client.get("/inbox/").content.decode()


def test_notification_detail_reads_it_and_shows_the_video_counts(deliver):
    creator = UserFactory.create()
    video = VideoFactory.create(creator=creator, caption="Tide pools")
    browser(UserFactory.create()).post(f"/videos/{video.pk}/share/", {"channel": "link"})
    deliver()
    notification = Notification.objects.get(recipient=creator)

    page = browser(creator).get(f"/inbox/{notification.pk}/")

    assert page.context["video"] == video
    assert "Shares are private" in page.content.decode()
    notification.refresh_from_db()
    assert notification.unread is False


def test_other_users_notifications_are_not_found(deliver):
    notification_owner = UserFactory.create()
    video = VideoFactory.create(creator=notification_owner)
    browser(UserFactory.create()).post(f"/videos/{video.pk}/share/", {"channel": "link"})
    deliver()
    notification = Notification.objects.get()
    assert browser(UserFactory.create()).get(f"/inbox/{notification.pk}/").status_code == 404


def test_direct_messages_open_a_chat_and_send():
    ana, ben = UserFactory.create_batch(2)
    client = browser(ana)
    response = client.post("/messages/", {"username": f"@{ben.username}"})
    chat_url = response["Location"]
    client.post(chat_url, {"text": "hello there"})
    assert "hello there" in browser(ben).get(chat_url).content.decode()


def test_direct_message_to_a_refusing_user_shows_the_reason():
    ana, ben = UserFactory.create_batch(2)
    ben.profile.dm_policy = "followers"
    ben.profile.save()
    response = browser(ana).post("/messages/", {"username": ben.username})
    assert response.status_code == 400
    assert response.context["form"].errors["username"] == [
        f"You can't send direct messages to @{ben.username}: they only allow it from their followers."
    ]


def test_settings_save_policies_and_muted_types():
    user = UserFactory.create()
    response = browser(user).post(
        "/settings/",
        {
            "display_name": "New Name",
            "bio": "",
            "is_pro": "on",
            "dm_policy": "followers",
            "tag_policy": "nobody",
            "muted_types": ["like", "post"],
        },
    )
    assert response.status_code == 302
    user.profile.refresh_from_db()
    profile = user.profile
    assert (profile.display_name, profile.is_pro, profile.dm_policy, profile.tag_policy, profile.muted_types) == (
        "New Name",
        True,
        "followers",
        "nobody",
        ["like", "post"],
    )


def test_settings_errors_show_next_to_the_field_and_save_nothing():
    user = UserFactory.create()
    form = {"display_name": "X", "dm_policy": "strangers", "tag_policy": "everyone"}
    response = browser(user).post("/settings/", form)
    assert response.status_code == 400
    assert "dm_policy" in response.context["form"].errors
    user.profile.refresh_from_db()
    assert user.profile.display_name != "X"


def test_follow_block_and_like_from_pages():
    viewer, person = UserFactory.create_batch(2)
    video = VideoFactory.create(creator=person)
    client = browser(viewer)
    client.post(f"/u/{person.username}/follow/")
    client.post(f"/u/{person.username}/block/")
    liked = client.post(f"/videos/{video.pk}/like/", HTTP_HX_REQUEST="true")
    assert Follow.objects.filter(follower=viewer, followee=person).exists()
    assert Block.objects.filter(blocker=viewer, blocked=person).exists()
    assert 'aria-pressed="true"' in liked.content.decode()
    video.refresh_from_db()
    assert video.like_count == 1


@pytest.mark.parametrize("path", ["/u/a%00b/", "/u/a%00b/follow/", "/u/a%00b/block/"])
def test_a_profile_path_naming_nobody_is_a_404_page_not_a_500(path):
    client = browser(UserFactory.create())
    response = client.get(path) if path.count("/") == 3 else client.post(path)
    assert response.status_code == 404


def test_profile_pages_find_a_user_however_the_name_is_cased():
    UserFactory.create(username="ana")
    assert browser(UserFactory.create()).get("/u/ANA/").status_code == 200


def test_pages_load_htmx_and_the_shared_live_stream_locally():
    page = browser(UserFactory.create()).get("/").content.decode()
    assert "/static/django_htmx/htmx-2.min.js" in page
    assert "/static/shareloop/live.js" in page
    assert 'data-live-stream="/api/inbox/stream/"' in page
    assert 'data-live-worker="/static/shareloop/live-worker.js"' in page
    assert "https://" not in page


def test_the_inbox_pages_older_notifications_and_keeps_the_tab(deliver):
    creator, fan = UserFactory.create(), UserFactory.create()
    video = VideoFactory.create(creator=creator)
    for n in range(PAGE_SIZE + 3):
        services.comment_create(author=fan, video=video, text=f"comment {n}")
    deliver()
    client = browser(creator)

    first = client.get("/inbox/?category=comments")
    assert len(first.context["items"]) == PAGE_SIZE and first.context["items"][0].text.endswith("comment 52")
    assert 'href="/inbox/?category=comments&amp;page=2" rel="next">Older' in first.content.decode()
    assert 'rel="prev"' not in first.content.decode()
    second = client.get("/inbox/?category=comments&page=2")
    assert [item.text[-9:] for item in second.context["items"]] == ["comment 2", "comment 1", "comment 0"]
    assert 'href="/inbox/?category=comments" rel="prev">Newer' in second.content.decode()
    assert 'rel="next"' not in second.content.decode()
    assert client.get("/inbox/?category=comments&page=3")["Location"] == "/inbox/?category=comments"
    assert len(client.get("/inbox/?page=99999999999999999999").context["items"]) == PAGE_SIZE


@pytest.mark.parametrize("path", ["/no-such-page/", "/videos/999999/", "/u/nobody-here/"])
def test_a_missing_page_is_a_friendly_404_even_with_debug_on(settings, path):
    settings.DEBUG = True
    response = browser(UserFactory.create()).get(path)
    assert response.status_code == 404
    page = response.content.decode()
    assert "This page isn't here" in page
    assert "URLconf" not in page and "Traceback" not in page


def test_api_paths_keep_their_json_errors_with_debug_on(settings):
    settings.DEBUG = True
    response = browser(UserFactory.create()).get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    ("error", "status", "text"),
    [(PermissionDenied(), 403, "You can't open this page"), (RuntimeError("boom"), 500, "Something went wrong")],
)
def test_forbidden_and_failing_pages_are_friendly_with_debug_on(settings, rf, error, status, text):
    settings.DEBUG = True
    request = rf.get("/somewhere/")
    request.user = AnonymousUser()
    response = FriendlyErrorPagesMiddleware(lambda r: None).process_exception(request, error)
    assert response.status_code == status
    assert text in response.content.decode()
    assert "boom" not in response.content.decode()


def test_a_reload_of_the_video_page_is_not_another_view():
    video = VideoFactory.create()
    viewer = browser(UserFactory.create())
    viewer.get(f"/videos/{video.pk}/")
    viewer.get(f"/videos/{video.pk}/")
    browser(UserFactory.create()).get(f"/videos/{video.pk}/")
    video.refresh_from_db()
    assert video.view_count == 2


def test_coming_back_to_a_video_after_the_viewing_window_counts_again():
    video = VideoFactory.create()
    viewer = browser(UserFactory.create())
    viewer.get(f"/videos/{video.pk}/")
    session = viewer.session
    session["viewings"] = {key: moment - VIEWING_SECONDS - 1 for key, moment in session["viewings"].items()}
    session.save()
    viewer.get(f"/videos/{video.pk}/")
    video.refresh_from_db()
    assert video.view_count == 2


def test_a_reload_of_a_profile_is_not_another_profile_view():
    person, visitor = UserFactory.create_batch(2)
    client = browser(visitor)
    client.get(f"/u/{person.username}/")
    client.get(f"/u/{person.username}/")
    assert ProfileView.objects.filter(profile_user=person).count() == 1


def test_video_counts_answer_204_until_they_change_then_mark_what_changed():
    video = VideoFactory.create()
    client = browser(UserFactory.create())
    first = client.get(f"/videos/{video.pk}/counts/", HTTP_HX_REQUEST="true")
    seen = first.context["video"]
    seen_param = f"{seen.view_count}-{seen.like_count}-{seen.comment_count}-{seen.share_count}"
    assert client.get(f"/videos/{video.pk}/counts/?seen={seen_param}").status_code == 204
    services.like_create(user=UserFactory.create(), video=video)
    changed = client.get(f"/videos/{video.pk}/counts/?seen={seen_param}")
    assert changed.status_code == 200
    assert changed.context["changed"] == ["like_count"]
    assert '<li title="Likes" class="count-changed">' in changed.content.decode()


@pytest.fixture
def chat_between(deliver):
    """``chat_between(ana, ben, text)``: ana's message to ben in their chat, delivered."""

    def chat(ana, ben, text="hello"):
        conversation, _ = services.conversation_get_or_create(creator=ana, participants=[ben])
        message = services.message_send(sender=ana, conversation=conversation, text=text)
        deliver()
        return conversation, message

    return chat


def test_an_open_chat_answers_204_until_a_new_message_arrives(chat_between):
    ana, ben = UserFactory.create_batch(2)
    chat, message = chat_between(ana, ben)
    client = browser(ben)
    url = f"/messages/{chat.pk}/"
    assert (
        client.get(f"{url}?after={message.pk}", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="chat-messages").status_code
        == 204
    )
    services.message_send(sender=ana, conversation=chat, text="are you there?")
    newer = client.get(f"{url}?after={message.pk}", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="chat-messages")
    assert newer.status_code == 200
    assert "are you there?" in newer.content.decode()


def test_reading_in_an_open_chat_clears_its_message_notifications_only(chat_between):
    ana, ben, cara = UserFactory.create_batch(3)
    chat, _ = chat_between(ana, ben)
    chat_between(cara, ben)
    client = browser(ben)
    assert f'hx-post="/inbox/chats/{chat.pk}/read/"' in client.get(f"/messages/{chat.pk}/").content.decode()
    assert client.post(f"/inbox/chats/{chat.pk}/read/").status_code == 204
    unread = Notification.objects.filter(recipient=ben, unread=True)
    assert list(unread.values_list("actor__username", flat=True)) == [cara.username]


def test_reading_someone_elses_chat_changes_nothing(chat_between):
    ana, ben, stranger = UserFactory.create_batch(3)
    chat, _ = chat_between(ana, ben)
    assert browser(stranger).post(f"/inbox/chats/{chat.pk}/read/").status_code == 404
    assert Notification.objects.get(recipient=ben).unread


def test_the_messages_list_shows_each_chats_last_message_and_unread_marker(deliver, chat_between):
    ana, ben, cara = UserFactory.create_batch(3)
    chat_between(ana, ben, "first <b>hello</b>")
    read_chat, _ = chat_between(cara, ben, "already seen")
    video = VideoFactory.create(creator=cara)
    services.video_share(sharer=ana, video=video, channel="dm", recipients=[ben], message="look")
    deliver()
    browser(ben).post(f"/inbox/chats/{read_chat.pk}/read/")
    page = browser(ben).get("/messages/").content.decode()
    assert "Sent a video · look" in page and "already seen" in page
    assert "first <b>" not in page
    assert page.count('class="unread"') == 1


def test_every_aria_describedby_points_at_an_element_on_the_page():
    client = browser(UserFactory.create())
    video = VideoFactory.create()
    for path in ["/videos/new/", "/settings/", "/signup/", f"/videos/{video.pk}/share/", "/messages/"]:
        page = client.get(path).content.decode()
        for ids in re.findall(r'aria-describedby="([^"]+)"', page):
            for target in ids.split():
                assert f'id="{target}"' in page, (path, target)


def test_the_share_sheet_says_once_as_the_inbox_does():
    video = VideoFactory.create()
    services.video_share(sharer=UserFactory.create(), video=video, channel="link")
    page = browser(UserFactory.create()).get(f"/videos/{video.pk}/share/").content.decode()
    assert "Shared once." in page


def test_posters_draw_no_play_button_that_plays_nothing():
    video = VideoFactory.create()
    poster = browser(UserFactory.create()).get(f"/videos/{video.pk}/poster.svg").content.decode()
    assert "<path" not in poster


def test_a_share_from_the_sheet_in_a_dialog_redirects_the_page_and_a_refusal_stays_in_the_sheet():
    video = VideoFactory.create()
    client = browser(UserFactory.create())
    done = client.post(f"/videos/{video.pk}/share/", {"channel": "link"}, HTTP_HX_REQUEST="true")
    assert done["HX-Redirect"] == f"/videos/{video.pk}/"
    refused = client.post(f"/videos/{video.pk}/share/", {"channel": "dm"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 400
    assert 'id="share-sheet"' in refused.content.decode()


@pytest.fixture
def share_group_of(deliver):
    """``share_group_of(creator, video, sharer)``: the creator's share group, the sharer's link share delivered."""

    def share_group(creator, video, sharer):
        services.video_share(sharer=sharer, video=video, channel="link")
        deliver()
        return Notification.objects.get(recipient=creator, type="share")

    return share_group


def test_a_share_groups_detail_page_says_what_the_creator_can_and_cannot_know(share_group_of):
    creator, sharer = UserFactory.create(), UserFactory.create(username="sam_sharer", display_name="Samira")
    group = share_group_of(creator, VideoFactory.create(creator=creator), sharer)
    page = browser(creator).get(f"/inbox/{group.pk}/").content.decode()
    assert "shared once in this group: by copying its link, sharing it to other apps, or sending it in messages" in page
    assert "Who shared is never shown" in page
    assert "Mentions</a> and <a" in page
    assert "sam_sharer" not in page and "Samira" not in page


def _staff(username: str, *, group: str | None = None, superuser: bool = False):
    user = UserFactory.create(username=username, is_staff=True, is_superuser=superuser)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def test_the_staff_share_group_page_shows_the_sharers_beside_what_the_creator_sees(share_group_of):
    creator, sharer = UserFactory.create(), UserFactory.create(username="sam_sharer")
    group = share_group_of(creator, VideoFactory.create(creator=creator), sharer)
    page = browser(_staff("root", superuser=True)).get(f"/staff/share-groups/{group.pk}/").content.decode()
    assert "What the creator sees" in page and "Your video was shared once" in page
    assert "What the platform knows" in page and "@sam_sharer" in page and ">link<" in page


@pytest.mark.parametrize("who", ["creator", "support", "moderator", "sharer"])
def test_the_staff_share_group_page_is_not_found_for_anyone_who_may_not_see_sharers(who, share_group_of):
    creator, sharer = UserFactory.create(), UserFactory.create(username="sam_sharer")
    group = share_group_of(creator, VideoFactory.create(creator=creator), sharer)
    viewer = {
        "creator": creator,
        "sharer": sharer,
        "support": _staff("sue_support", group="Support"),
        "moderator": _staff("mo_moderator", group="Moderator"),
    }[who]
    response = browser(viewer).get(f"/staff/share-groups/{group.pk}/")
    assert response.status_code == 404
    assert b"Share group" not in response.content


def test_in_demo_mode_a_presenter_turns_share_batching_on_and_the_inbox_shows_the_schedule_only(settings, deliver):
    settings.DEMO_MODE = True
    creator, sharer = UserFactory.create(), UserFactory.create()
    video = VideoFactory.create(creator=creator)
    client = browser(creator)
    assert "Batch shares every 30&nbsp;s" in client.get("/inbox/").content.decode()
    client.post("/inbox/demo/batching/", {"batching": "on"})
    assert share_batch_seconds() == 30

    services.video_share(sharer=sharer, video=video, channel="link")
    deliver()
    assert not Notification.objects.filter(recipient=creator).exists()
    page = client.get("/inbox/").content.decode()
    assert "Anonymous shares arrive every 30 s" in page and 'data-batch-countdown="30"' in page
    assert "waiting" not in page and "held" not in page

    held_shares_release(now=timezone.now() + timedelta(seconds=31))
    assert Notification.objects.get(recipient=creator, type="share").count == 1
    client.post("/inbox/demo/batching/", {"batching": "off"})
    assert share_batch_seconds() == 0


def test_share_batching_cannot_be_switched_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    client = browser(UserFactory.create())
    assert client.post("/inbox/demo/batching/", {"batching": "on"}).status_code == 404
    assert "Share batching" not in client.get("/inbox/").content.decode()
    assert share_batch_seconds() == settings.SHARE_NOTIFICATION_BATCH_SECONDS
