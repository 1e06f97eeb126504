"""Once a moderator hides a video, its caption leaves every inbox: API, pages and the stream's replay."""

import pytest
from django.test import Client

from inbox import stream_log
from inbox.models import InboxStream
from video_platform import services
from video_platform.models import Video

from .clients import api_client
from .factories import UserFactory
from .test_stream import EventStream

CAPTION = "Secret sunrise over the quay @ben"


@pytest.fixture
def notified_about_a_video(deliver):
    """cara posts a video mentioning ben; fran follows her, dev likes it, eli comments: every kind of row
    that quotes or shows a caption."""
    cara, ben, fran, dev, eli = (UserFactory.create(username=name) for name in ("cara", "ben", "fran", "dev", "eli"))
    for user in (cara, ben, fran):  # their inboxes are watched: their stream logs hold what follows
        stream_log.stream_watched(user_id=user.pk)
    services.follow_create(follower=fran, followee=cara)
    video = services.video_create(creator=cara, caption=CAPTION)
    services.like_create(user=dev, video=video)
    services.comment_create(author=eli, video=video, text="Sunrise looks unreal")
    deliver()
    return video, {"cara": cara, "ben": ben, "fran": fran}


def watch_start(user) -> int:
    """The id the user's watched stretch of log starts at: a replay after it sends everything the log holds."""
    return InboxStream.objects.get(user=user).present_from_seq


def moderator_hides(video: Video) -> None:
    Video.objects.filter(pk=video.pk).update(is_hidden=True)  # what the admin's "Hide" action does


def inbox_surfaces(user) -> list[str]:
    """Everything the user's inbox shows, as text: the API list and each item, the page and each detail page."""
    api, page = api_client(user), Client()
    page.force_login(user)
    listing = api.get("/api/inbox/").json()["results"]
    texts = [str(listing), page.get("/inbox/").content.decode()]
    for item in listing:
        texts.append(str(api.get(f"/api/inbox/{item['id']}/").json()))
        texts.append(page.get(f"/inbox/{item['id']}/").content.decode())
    return texts


@pytest.mark.django_db
def test_before_hiding_followers_mentioned_users_and_the_creator_see_the_caption(notified_about_a_video):
    video, people = notified_about_a_video
    for name, user in people.items():
        assert any("Secret sunrise" in text for text in inbox_surfaces(user)), name
    (post,) = api_client(people["fran"]).get("/api/inbox/").json()["results"]
    assert post["text"] == f"@cara posted a new video: {CAPTION}"
    assert post["video"] == {"id": video.pk, "caption": CAPTION}


@pytest.mark.django_db
def test_after_hiding_no_inbox_shows_the_caption_anywhere(notified_about_a_video):
    video, people = notified_about_a_video
    moderator_hides(video)
    for name, user in people.items():
        for text in inbox_surfaces(user):
            assert "Secret sunrise" not in text, name
            assert "Sunrise looks unreal" not in text, name


@pytest.mark.django_db
def test_after_hiding_a_post_notification_still_says_who_posted_without_quoting_it(notified_about_a_video):
    video, people = notified_about_a_video
    moderator_hides(video)
    (post,) = api_client(people["fran"]).get("/api/inbox/").json()["results"]
    assert (post["text"], post["video"]) == ("@cara posted a new video", {"id": video.pk, "caption": ""})
    mention = api_client(people["ben"]).get("/api/inbox/").json()["results"][0]
    assert (mention["type"], mention["text"]) == ("mention", "@cara mentioned you")


@pytest.mark.django_db
def test_unhiding_brings_the_caption_back(notified_about_a_video):
    video, people = notified_about_a_video
    moderator_hides(video)
    Video.objects.filter(pk=video.pk).update(is_hidden=False)
    (post,) = api_client(people["fran"]).get("/api/inbox/").json()["results"]
    assert post["video"]["caption"] == CAPTION


@pytest.mark.django_db(transaction=True)
def test_after_hiding_the_stream_replay_does_not_show_the_caption(asgi_server, notified_about_a_video):
    video, people = notified_about_a_video
    replay = EventStream(asgi_server, people["fran"], last_event_id=watch_start(people["fran"]))
    try:
        assert replay.next_block() == {"comment": "ok"}
        shown = replay.next_message("notification")
        assert shown["data"]["video"]["caption"] == CAPTION
    finally:
        replay.close()
    moderator_hides(video)
    replay = EventStream(asgi_server, people["fran"], last_event_id=watch_start(people["fran"]))
    try:
        assert replay.next_block() == {"comment": "ok"}
        shown = replay.next_message("notification")
    finally:
        replay.close()
    assert (shown["data"]["type"], shown["data"]["text"]) == ("post", "@cara posted a new video")
    assert "Secret sunrise" not in shown["raw"]
