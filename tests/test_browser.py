"""End to end in a real headless Chromium (Debian's /usr/bin/chromium driven by playwright), against
uvicorn and a real Celery worker: two people at once, the creator's inbox updating live."""

import os
import re
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from playwright.sync_api import Page, expect, sync_playwright

from inbox.models import Notification
from video_platform import services
from video_platform.models import Block, Follow, Video

from .factories import PASSWORD, UserFactory, VideoFactory
from .waiting import wait_until

User = get_user_model()

pytestmark = pytest.mark.django_db(transaction=True)

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2}
SHARER_USERNAME, SHARER_NAME = "sam_sharer", "Samira Sharewell"


@pytest.fixture(scope="module")
def chromium():
    # The ORM runs in the test while playwright's event loop sits in the same thread; they never overlap.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    expect.set_options(timeout=20_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE")
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def open_as(chromium, asgi_server, celery_worker):
    """A logged-in page per user, each in its own browser context (its own cookies), as two phones would be."""
    contexts = []

    def open_page(user) -> Page:
        context = chromium.new_context(base_url=asgi_server, **PHONE)
        contexts.append(context)
        return log_in(context, user)

    yield open_page
    for context in contexts:
        context.close()


def expect_live(page: Page) -> None:
    """Wait for the page's live stream to be open: what happens before it is only seen on the next load."""
    expect(page.locator("body[data-live=open]")).to_have_count(1)


def assert_sharer_absent(page: Page) -> None:
    html = page.content()
    assert SHARER_USERNAME not in html
    assert SHARER_NAME not in html


def test_creator_sees_shares_live_and_learns_the_sharer_only_from_tag_and_dm(open_as):
    creator = UserFactory.create(username="cara", display_name="Cara Chen")
    sharer = UserFactory.create(username=SHARER_USERNAME, display_name=SHARER_NAME)
    blocker = UserFactory.create(username="bo_blocks", display_name="Bo Blocker")
    ana = UserFactory.create(username="ana", display_name="Ana Alvarez")
    video = VideoFactory.create(creator=creator, caption="Sunrise timelapse over the bay")
    VideoFactory.create(creator=ana, caption="Skateboard kickflip, slow motion")
    VideoFactory.create(creator=blocker, caption="Three-minute ramen hack")
    VideoFactory.create(creator=ana, caption="My cat vs. the cucumber")
    # Set up who knows whom directly, without events: nothing here may reach the creator's inbox.
    for followee in (creator, blocker, ana):
        Follow.objects.create(follower=sharer, followee=followee)
    Block.objects.create(blocker=blocker, blocked=sharer)

    inbox = open_as(creator)
    inbox.goto("/inbox/")
    expect(inbox.get_by_role("heading", name="Nothing here yet")).to_be_visible()
    expect(inbox.get_by_test_id("unread-badge")).to_have_count(0)

    phone = open_as(sharer)
    expect(phone.get_by_role("link", name=re.compile("Sunrise timelapse"))).to_have_count(2)
    phone.wait_for_load_state()
    phone.screenshot(path=SCREENSHOTS / "feed.png")
    phone.get_by_role("link", name="Open video: Sunrise timelapse over the bay").click()
    phone.get_by_role("link", name="Share", exact=True).click()
    expect(phone.get_by_role("heading", name="Share", exact=True)).to_be_visible()
    expect(phone.locator("#tagged-bo_blocks")).to_be_disabled()
    expect(phone.locator("#tagged-bo_blocks-why")).to_contain_text("they have blocked you")
    expect(phone.locator("#tagged-cara")).to_be_enabled()
    phone.wait_for_load_state()
    phone.screenshot(path=SCREENSHOTS / "share-sheet.png")

    phone.get_by_role("button", name="Copy link").click()
    expect(phone.get_by_role("status")).to_contain_text("Link copied and shared.")

    # Live: the creator's badge and list change without a reload, and never name the sharer.
    expect(inbox.get_by_test_id("unread-badge")).to_have_text("1")
    expect(inbox.get_by_test_id("notification")).to_have_text(re.compile("Your video was shared once"))
    assert_sharer_absent(inbox)
    inbox.get_by_role("link", name=re.compile("Your video was shared once")).click()
    expect(inbox.get_by_text("Shares are private")).to_be_visible()
    expect(inbox.get_by_test_id("share-explainer")).to_contain_text("Who shared is never shown")
    assert_sharer_absent(inbox)
    inbox.screenshot(path=SCREENSHOTS / "share-group.png", full_page=True)
    inbox.goto("/inbox/")
    expect(inbox.get_by_test_id("unread-badge")).to_have_count(0)

    phone.goto(f"/videos/{video.pk}/share/")
    phone.locator("#tagged-cara").check()
    phone.get_by_role("button", name="Repost with tags").click()
    expect(phone.get_by_role("status")).to_contain_text("Reposted with your tags.")
    expect(inbox.get_by_text(f"@{SHARER_USERNAME} tagged you in a video")).to_be_visible()
    expect(inbox.get_by_test_id("unread-badge")).to_have_text("1")

    phone.goto(f"/videos/{video.pk}/share/")
    phone.locator("#recipients-cara").check()
    phone.get_by_label("Message", exact=True).fill("You have to see this one")
    phone.get_by_role("button", name="Send", exact=True).click()
    expect(phone.get_by_role("status")).to_contain_text("Sent to your friends.")
    expect(inbox.get_by_text(f"@{SHARER_USERNAME} sent you a message: You have to see this one")).to_be_visible()
    expect(inbox.get_by_test_id("unread-badge")).to_have_text("2")
    inbox.screenshot(path=SCREENSHOTS / "inbox.png")

    inbox.get_by_role("link", name=re.compile("sent you a message")).click()
    inbox.get_by_role("link", name="Open the chat").click()
    chat = inbox.locator("#chat-messages")
    expect(chat).to_contain_text("Sunrise timelapse over the bay")
    expect(chat).to_contain_text("You have to see this one")


def test_new_chat_message_appears_live_in_the_open_chat(open_as):
    ana = UserFactory.create(username="ana", display_name="Ana Alvarez")
    ben = UserFactory.create(username="ben", display_name="Ben Brooks")
    ana_page = open_as(ana)
    ana_page.get_by_role("link", name="Messages").click()
    ana_page.get_by_label("Send a message to").fill("ben")
    ana_page.get_by_role("button", name="Open chat").click()
    ana_page.get_by_label("Message", exact=True).fill("Are you coming tonight?")
    ana_page.get_by_role("button", name="Send").click()
    chat_url = ana_page.url

    ben_page = open_as(ben)
    ben_page.goto(chat_url)
    expect(ben_page.locator("#chat-messages")).to_contain_text("Are you coming tonight?")
    ben_page.get_by_label("Message", exact=True).fill("Yes, see you at eight")
    ben_page.get_by_role("button", name="Send").click()

    expect(ana_page.locator("#chat-messages")).to_contain_text("Yes, see you at eight")


def test_controls_are_reachable_by_keyboard(open_as):
    page = open_as(UserFactory.create())
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Shareloop")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Home")).to_be_focused()


def test_like_button_toggles_in_place_and_notifies_the_creator_live(open_as):
    creator = UserFactory.create(username="cara")
    fan = UserFactory.create(username="lina_likes")
    video = VideoFactory.create(creator=creator, caption="Rooftop garden")
    inbox = open_as(creator)
    inbox.goto("/inbox/?category=likes")
    phone = open_as(fan)
    phone.goto(f"/videos/{video.pk}/")

    phone.get_by_role("button", name="Like · 0").click()

    expect(phone.get_by_role("button", name="Liked · 1")).to_have_attribute("aria-pressed", "true")
    expect(inbox.get_by_text("@lina_likes liked your video")).to_be_visible()


def log_in(context, user) -> Page:
    page = context.new_page()
    page.goto("/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Feed")).to_be_visible()
    return page


@pytest.fixture
def new_context(chromium, asgi_server, celery_worker):
    contexts = []

    def make(**options):
        context = chromium.new_context(base_url=asgi_server, **options)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def test_eight_tabs_of_one_user_share_one_stream_so_every_tab_loads_and_updates_live(new_context):
    creator = UserFactory.create(username="cara")
    fan = UserFactory.create(username="lina_likes")
    video = VideoFactory.create(creator=creator, caption="Rooftop garden")
    context = new_context()
    tabs = [log_in(context, creator)]
    pages = [
        "/inbox/",
        "/",
        f"/videos/{video.pk}/",
        "/messages/",
        "/settings/",
        "/inbox/?category=likes",
        "/analytics/",
    ]
    for path in pages:
        tab = context.new_page()
        tab.goto(path)
        expect(tab.get_by_role("link", name="Inbox")).to_be_visible()  # the eighth page loads too
        tabs.append(tab)
    assert len(tabs) == 8

    services.like_create(user=fan, video=video)

    for tab in tabs:
        expect(tab.get_by_test_id("unread-badge")).to_have_text("1")
    expect(tabs[1].get_by_text("@lina_likes liked your video")).to_be_visible()
    tabs[0].get_by_role("link", name="Messages").click()  # clicks in an open tab still answer
    expect(tabs[0].get_by_role("heading", name="Messages")).to_be_visible()


def test_three_users_in_three_browsers_each_see_only_their_own_live_updates(new_context):
    people = [UserFactory.create(username=name) for name in ("ana", "ben", "cara")]
    videos = {
        person.username: VideoFactory.create(creator=person, caption=f"Clip by {person.username}") for person in people
    }
    tabs = {}
    for person in people:
        context = new_context()
        first = log_in(context, person)
        second = context.new_page()
        second.goto("/inbox/")
        tabs[person.username] = (first, second)

    services.like_create(user=people[0], video=videos["ben"])
    services.like_create(user=people[1], video=videos["cara"])
    services.like_create(user=people[0], video=videos["cara"])

    for username, count in (("ben", "1"), ("cara", "1")):
        for tab in tabs[username]:
            expect(tab.get_by_test_id("unread-badge")).to_have_text(count)
    expect(tabs["cara"][1].get_by_text(re.compile("and 1 other liked your video"))).to_be_visible()
    expect(tabs["ben"][1].get_by_text("@ana liked your video")).to_be_visible()
    for tab in tabs["ana"]:
        expect(tab.get_by_test_id("unread-badge")).to_have_count(0)


def test_a_refused_share_shows_its_reason_inside_the_open_share_sheet(open_as):
    video = VideoFactory.create(caption="Rooftop garden")
    page = open_as(UserFactory.create())
    page.goto(f"/videos/{video.pk}/")
    page.get_by_role("link", name="Share", exact=True).click()
    dialog = page.locator("#share-dialog")
    expect(dialog.get_by_role("heading", name="Share", exact=True)).to_be_visible()
    dialog.get_by_role("button", name="Send", exact=True).click()  # nobody picked
    expect(dialog.get_by_role("alert")).to_be_visible()
    expect(dialog).to_have_attribute("open", "")
    assert page.url.endswith(f"/videos/{video.pk}/")
    dialog.get_by_role("button", name="Copy link").click()
    expect(page.get_by_role("status")).to_contain_text("Link copied and shared.")
    expect(page.locator("#share-dialog")).not_to_have_attribute("open", "")


def test_an_open_chat_stays_live_when_the_reader_muted_message_notifications(open_as):
    ana = UserFactory.create(username="ana")
    ben = UserFactory.create(username="ben")
    ben.profile.muted_types = ["message"]
    ben.profile.save()
    chat, _ = services.conversation_get_or_create(creator=ana, participants=[ben])
    page = open_as(ben)
    page.goto(f"/messages/{chat.pk}/")
    expect_live(page)
    services.message_send(sender=ana, conversation=chat, text="Muted but still here")
    expect(page.locator("#chat-messages")).to_contain_text("Muted but still here")


def test_reading_a_message_in_the_open_chat_clears_it_from_the_badge(open_as):
    ana = UserFactory.create(username="ana")
    ben = UserFactory.create(username="ben")
    chat, _ = services.conversation_get_or_create(creator=ana, participants=[ben])
    page = open_as(ben)
    page.goto(f"/messages/{chat.pk}/")
    expect_live(page)
    services.message_send(sender=ana, conversation=chat, text="Read me here")
    expect(page.locator("#chat-messages")).to_contain_text("Read me here")
    # The chat can show the message (its poll) before the worker delivers the notification; the open page
    # reads that notification when it arrives live, and only then is there something to have cleared.
    notifications = Notification.objects.filter(recipient=ben, conversation=chat)
    wait_until(
        lambda: notifications.exists() and not notifications.filter(unread=True).exists(),
        timeout=20,
        what="the open chat to read the delivered message notification",
    )
    page.goto("/messages/")
    expect(page.get_by_test_id("conversation")).to_contain_text("Read me here")
    expect(page.get_by_test_id("unread-badge")).to_have_count(0)
    expect(page.locator("[data-testid=conversation].unread")).to_have_count(0)


def test_counts_on_an_open_video_page_update_live_and_glow(open_as):
    video = VideoFactory.create(caption="Rooftop garden")
    page = open_as(UserFactory.create())
    page.goto(f"/videos/{video.pk}/")
    expect(page.locator("#video-counts [data-count=likes]")).to_have_text("0")
    expect_live(page)
    services.like_create(user=UserFactory.create(), video=video)
    expect(page.locator("#video-counts [data-count=likes]")).to_have_text("1")
    expect(page.locator("#video-counts li.count-changed")).to_have_attribute("title", "Likes")


def test_a_notification_that_changes_live_is_highlighted(open_as):
    creator = UserFactory.create(username="cara")
    video = VideoFactory.create(creator=creator, caption="Rooftop garden")
    inbox = open_as(creator)
    inbox.goto("/inbox/")
    expect_live(inbox)
    services.like_create(user=UserFactory.create(username="lina_likes"), video=video)
    expect(inbox.locator(".notification.live-changed")).to_contain_text("@lina_likes liked your video")


def _no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url


def test_inbox_tabs_fit_at_desktop_width_and_mark_all_read_sits_at_the_lists_edge(new_context):
    creator = UserFactory.create(username="cara")
    video = VideoFactory.create(creator=creator)
    for fan in UserFactory.create_batch(2):
        services.like_create(user=fan, video=video)
        services.comment_create(author=fan, video=video, text="nice")
        services.follow_create(follower=fan, followee=creator)
    # One like group, two comments, two follows: the list is drawn once the worker has delivered them.
    wait_until(lambda: Notification.objects.filter(recipient=creator).count() == 5, timeout=20, what="delivery")
    page = log_in(new_context(viewport={"width": 1280, "height": 900}), creator)
    page.goto("/inbox/")
    expect(page.get_by_role("button", name="Mark all as read")).to_be_visible()
    tabs = page.get_by_role("navigation", name="Inbox categories")
    assert tabs.evaluate("row => row.scrollWidth <= row.clientWidth")
    # The live stream may redraw the list as it connects: measure once both are drawn.
    button, listing = wait_until(
        lambda: (
            all(
                boxes := (
                    page.get_by_role("button", name="Mark all as read").bounding_box(),
                    page.get_by_role("list", name="All notifications").bounding_box(),
                )
            )
            and boxes
        ),
        timeout=10,
        what="the inbox list and its Mark all as read button to be drawn",
    )
    assert listing["x"] + listing["width"] - 40 <= button["x"] + button["width"] <= listing["x"] + listing["width"] + 1


def test_inbox_tabs_show_they_scroll_on_a_phone(open_as):
    page = open_as(UserFactory.create())
    page.goto("/inbox/")
    expect(page.get_by_role("navigation", name="Inbox categories")).to_have_attribute("data-overflow", "right")
    _no_sideways_scroll(page)


def test_phone_pages_never_scroll_sideways_even_with_a_very_long_display_name(open_as):
    long_name = "Maximiliana-Konstantinopolitanischer-Dudelsackpfeifer"[:49]
    creator = UserFactory.create(username="cara", display_name=long_name)
    creator.profile.is_pro = True
    creator.profile.save()
    video = VideoFactory.create(creator=creator, caption="Supercalifragilisticexpialidocious" * 3)
    fan = UserFactory.create(display_name=long_name + "2")
    services.like_create(user=fan, video=video)
    chat, _ = services.conversation_get_or_create(creator=fan, participants=[creator])
    services.message_send(sender=fan, conversation=chat, text="hello")
    page = open_as(creator)
    for path in [
        "/",
        f"/videos/{video.pk}/",
        f"/u/{creator.username}/",
        "/inbox/",
        "/messages/",
        f"/messages/{chat.pk}/",
        "/analytics/?days=60",
        "/settings/",
        "/no-such-page/",
    ]:
        page.goto(path)
        page.wait_for_load_state()
        _no_sideways_scroll(page)


@pytest.fixture(scope="module")
def demo_server(asgi_process, django_db_blocker):
    """The app as `make demo` runs it (DEMO_MODE on), for the presenter's controls."""
    with asgi_process("test-demo-web.log", DEBUG="1", DEMO_MODE="1") as url:
        yield url


def test_the_seeded_world_looks_lived_in_and_is_photographed_for_the_readme(chromium, demo_server, celery_worker):
    for role in ("Support", "Moderator"):  # made by a data migration, which a transactional test flushes
        Group.objects.get_or_create(name=role)
    call_command("seed", stdout=StringIO())
    cara = User.objects.get(username="cara")
    desktop = chromium.new_context(base_url=demo_server, viewport={"width": 1280, "height": 900})
    phone = chromium.new_context(base_url=demo_server, **PHONE)
    try:
        page = desktop.new_page()
        page.goto("/login/")
        page.get_by_role("button", name=re.compile("Cara Chen")).click()
        page.goto("/analytics/?days=60")
        expect(page.get_by_role("heading", name="Analytics")).to_be_visible()
        assert page.locator("figure.analytics-chart").first.locator(".dot").count() == 60
        page.screenshot(path=SCREENSHOTS / "analytics.png", full_page=True)
        page.goto("/inbox/")
        expect(page.get_by_test_id("demo-batching")).to_contain_text("Batch shares every 30\u00a0s")
        expect(page.get_by_test_id("notification").first).to_be_visible()
        page.get_by_role("button", name="Batch shares every 30\u00a0s").click()
        expect(page.get_by_test_id("demo-batching")).to_contain_text("Anonymous shares arrive every 30 s")
        expect(page.get_by_test_id("demo-batching")).to_contain_text(re.compile(r"next delivery in \d+ s"))
        page.screenshot(path=SCREENSHOTS / "inbox-desktop.png")
        page.get_by_role("button", name="Turn batching off").click()
        expect(page.get_by_test_id("demo-batching")).to_contain_text("arrive at once")

        small = phone.new_page()
        small.goto("/login/")
        small.get_by_role("button", name=re.compile("Cara Chen")).click()
        small.goto("/inbox/")
        expect(small.get_by_test_id("notification").first).to_be_visible()
        assert small.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        small.screenshot(path=SCREENSHOTS / "inbox-phone.png")
        video = Video.objects.filter(creator=cara).order_by("-created_at").first()
        small.goto(f"/videos/{video.pk}/")
        expect(small.locator("#video-counts")).to_be_visible()
        small.screenshot(path=SCREENSHOTS / "video.png", full_page=True)
    finally:
        desktop.close()
        phone.close()
