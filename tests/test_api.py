"""The REST contract of docs/api.md (analytics and the stream aside), delivery done in-process."""

import pytest
from django.core.management import call_command
from kombu.exceptions import OperationalError
from rest_framework.authtoken.models import Token

from inbox.models import Notification
from inbox.tasks import fan_out_event
from video_platform.models import (
    CAPTION_MAX_LENGTH,
    COMMENT_MAX_LENGTH,
    MESSAGE_MAX_LENGTH,
    Block,
    Comment,
    Conversation,
    Event,
    Follow,
    Like,
    Message,
    Share,
    Video,
)

from .clients import api_client
from .factories import PASSWORD, UserFactory, VideoFactory

pytestmark = pytest.mark.django_db

NOTIFICATION_KEYS = {
    "id",
    "type",
    "category",
    "text",
    "actor",
    "video",
    "conversation",
    "count",
    "unread",
    "created_at",
    "updated_at",
}
CATEGORIES = {"shares", "mentions", "messages", "followers", "likes", "comments", "posts"}


def inbox(user, query: str = "") -> list[dict]:
    response = api_client(user).get(f"/api/inbox/{query}")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def footprint(video: Video | None = None) -> dict:
    """Everything a refused action must leave untouched."""
    models = (Share, Event, Message, Notification, Comment, Conversation, Video, Follow, Like, Block)
    counts = {model.__name__: model.objects.count() for model in models}
    if video is not None:
        counts["video"] = Video.objects.values("view_count", "like_count", "comment_count", "share_count").get(
            pk=video.pk
        )
    return counts


@pytest.fixture
def sharer(db):
    return UserFactory.create(username="sam_sharer")


@pytest.fixture
def ana(db):
    return UserFactory.create(username="ana")


def post(user, url, data=None):
    return api_client(user).post(url, data, format="json")


def share(user, video, **data):
    return post(user, f"/api/videos/{video.pk}/shares/", data)


# Authentication and sign-up


def test_token_endpoint_gives_a_token_for_the_right_password(ana):
    response = api_client().post("/api/auth/token/", {"username": "ana", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=ana).key}


def test_token_endpoint_refuses_a_wrong_password(ana):
    response = api_client().post("/api/auth/token/", {"username": "ana", "password": "nope"}, format="json")
    assert response.status_code == 400


def test_a_token_authenticates_requests(ana):
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=ana).key}")
    assert client.get("/api/me/").json()["username"] == "ana"


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/me/"),
        ("get", "/api/inbox/"),
        ("get", "/api/inbox/unread-count/"),
        ("get", "/api/videos/"),
        ("post", "/api/videos/"),
        ("get", "/api/conversations/"),
        ("get", "/api/events/1/"),
        ("post", "/api/inbox/read-all/"),
    ],
)
def test_requests_without_credentials_get_401_asking_for_a_token(method, url):
    response = getattr(api_client(), method)(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_wrong_token_gets_401():
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/me/").status_code == 401


def test_sign_up_creates_a_user_who_can_log_in():
    response = api_client().post(
        "/api/users/",
        {"username": "newbie", "password": "a-long-passphrase-42", "display_name": "New Bie"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json() == {
        "username": "newbie",
        "display_name": "New Bie",
        "bio": "",
        "is_pro": False,
        "counts": {"followers": 0, "following": 0, "videos": 0},
    }
    login = api_client().post("/api/auth/token/", {"username": "newbie", "password": "a-long-passphrase-42"})
    assert login.status_code == 200


def test_sign_up_without_a_display_name_uses_the_username():
    response = api_client().post(
        "/api/users/", {"username": "plain", "password": "a-long-passphrase-42"}, format="json"
    )
    assert response.json()["display_name"] == "plain"


def test_sign_up_with_a_weak_password_is_a_400_on_password_and_creates_nobody():
    response = api_client().post("/api/users/", {"username": "weak", "password": "123"}, format="json")
    assert response.status_code == 400
    assert "password" in response.json()
    assert not Token.objects.exists() and not Follow.objects.exists()
    assert api_client().post("/api/auth/token/", {"username": "weak", "password": "123"}).status_code == 400


@pytest.mark.parametrize("username", ["ANA", "no spaces!"], ids=["taken-in-another-case", "invalid"])
def test_sign_up_with_a_taken_or_invalid_username_is_a_400_on_username(ana, username):
    response = api_client().post(
        "/api/users/", {"username": username, "password": "a-long-passphrase-42"}, format="json"
    )
    assert response.status_code == 400
    assert "username" in response.json()


# Profiles, follows, blocks, /api/me/


def test_a_profile_shows_its_counts(ana, sharer):
    post(sharer, "/api/users/ana/follow/")
    VideoFactory.create(creator=ana)
    response = api_client(sharer).get("/api/users/ana/")
    assert response.json() == {
        "username": "ana",
        "display_name": "Ana",
        "bio": "",
        "is_pro": False,
        "counts": {"followers": 1, "following": 0, "videos": 1},
    }


def test_an_unknown_profile_is_404(ana):
    assert api_client(ana).get("/api/users/nobody-here/").status_code == 404


def test_a_profile_view_is_counted_except_your_own(ana, sharer):
    assert post(sharer, "/api/users/ana/views/").status_code == 201
    assert post(ana, "/api/users/ana/views/").json() == {"counted": False}


def test_follow_answers_201_with_an_event_and_notifies_the_followed_user(ana, sharer, deliver):
    response = post(sharer, "/api/users/ana/follow/")
    assert response.status_code == 201
    assert response.json()["event_id"] == Event.objects.get(kind="follow").pk
    deliver()
    (notification,) = inbox(ana)
    assert (notification["type"], notification["actor"]) == (
        "follow",
        {"username": "sam_sharer", "display_name": "Sam_Sharer"},
    )


def test_following_again_is_200_without_a_new_event(ana, sharer):
    post(sharer, "/api/users/ana/follow/")
    response = post(sharer, "/api/users/ana/follow/")
    assert (response.status_code, response.json()["event_id"]) == (200, None)
    assert Event.objects.count() == 1


def test_unfollow_removes_the_follow(ana, sharer):
    post(sharer, "/api/users/ana/follow/")
    assert api_client(sharer).delete("/api/users/ana/follow/").status_code == 204
    assert not Follow.objects.exists()


def test_following_an_unknown_user_is_404(ana):
    assert post(ana, "/api/users/ghost/follow/").status_code == 404


def test_block_and_unblock(ana, sharer):
    assert post(ana, "/api/users/sam_sharer/block/").status_code == 201
    assert Block.objects.filter(blocker=ana, blocked=sharer).exists()
    assert api_client(ana).delete("/api/users/sam_sharer/block/").status_code == 204
    assert not Block.objects.exists()


def test_a_follow_by_a_blocked_user_does_not_notify_the_blocker(ana, sharer, deliver):
    post(ana, "/api/users/sam_sharer/block/")
    assert post(sharer, "/api/users/ana/follow/").status_code == 201
    deliver()
    assert inbox(ana) == []


def test_me_shows_the_callers_settings(ana):
    assert api_client(ana).get("/api/me/").json() == {
        "username": "ana",
        "display_name": "Ana",
        "bio": "",
        "is_pro": False,
        "dm_policy": "everyone",
        "tag_policy": "everyone",
        "muted_types": [],
    }


def test_me_patch_changes_the_settings(ana):
    changes = {
        "display_name": "Ana A.",
        "bio": "hi",
        "is_pro": True,
        "dm_policy": "followers",
        "tag_policy": "nobody",
        "muted_types": ["like", "share"],
    }
    response = api_client(ana).patch("/api/me/", changes, format="json")
    assert response.status_code == 200
    assert response.json() == {"username": "ana", **changes}
    ana.profile.refresh_from_db()
    assert (ana.profile.is_pro, ana.profile.muted_types) == (True, ["like", "share"])


def test_me_patch_with_an_unknown_muted_type_is_a_400_and_changes_nothing(ana):
    response = api_client(ana).patch("/api/me/", {"muted_types": ["share", "gossip"], "bio": "x"}, format="json")
    assert response.status_code == 400
    assert "muted_types" in response.json()
    ana.profile.refresh_from_db()
    assert (ana.profile.muted_types, ana.profile.bio) == ([], "")


def test_me_patch_with_an_unknown_policy_is_a_400(ana):
    response = api_client(ana).patch("/api/me/", {"dm_policy": "friends"}, format="json")
    assert (response.status_code, list(response.json())) == (400, ["dm_policy"])


def test_me_patch_cannot_rename_the_user(ana):
    api_client(ana).patch("/api/me/", {"username": "root"}, format="json")
    ana.refresh_from_db()
    assert ana.username == "ana"


def test_muted_types_are_not_delivered(video, sharer, deliver):
    api_client(video.creator).patch("/api/me/", {"muted_types": ["share"]}, format="json")
    share(sharer, video, channel="link")
    deliver()
    assert inbox(video.creator) == []


# Videos, views, likes, comments


def test_posting_a_video_answers_201_with_the_video_and_its_event(ana):
    response = post(ana, "/api/videos/", {"caption": "hello world"})
    assert response.status_code == 201
    body = response.json()
    assert body["caption"] == "hello world"
    assert body["creator"] == {"username": "ana", "display_name": "Ana"}
    assert body["counts"] == {"views": 0, "likes": 0, "comments": 0, "shares": 0}
    assert body["event_id"] == Event.objects.get(kind="post").pk


def test_a_new_video_notifies_followers_with_a_post(ana, sharer, deliver):
    post(sharer, "/api/users/ana/follow/")
    post(ana, "/api/videos/", {"caption": "fresh"})
    deliver()
    assert [(n["type"], n["actor"]["username"]) for n in inbox(sharer)] == [("post", "ana")]


def test_a_post_skips_followers_who_blocked_the_creator_or_muted_posts(ana, make_user, deliver):
    fan, blocker, muter, both = (make_user(username=name) for name in ("fan", "blocker", "muter", "both"))
    for follower in (fan, blocker, muter, both):
        post(follower, "/api/users/ana/follow/")
    Block.objects.create(blocker=blocker, blocked=ana)
    Block.objects.create(blocker=both, blocked=ana)
    for follower in (muter, both):
        api_client(follower).patch("/api/me/", {"muted_types": ["post"]}, format="json")
    post(ana, "/api/videos/", {"caption": "fresh"})
    deliver()
    assert [n["type"] for n in inbox(fan)] == ["post"]
    assert inbox(blocker) == inbox(muter) == inbox(both) == []


def test_videos_are_listed_and_shown(video, ana):
    listed = api_client(ana).get("/api/videos/").json()["results"]
    assert [v["id"] for v in listed] == [video.pk]
    detail = api_client(ana).get(f"/api/videos/{video.pk}/").json()
    assert set(detail) >= {"id", "creator", "caption", "created_at", "counts"}


def test_an_unknown_video_is_404(ana):
    assert api_client(ana).get("/api/videos/999999/").status_code == 404


@pytest.mark.parametrize("caption", ["", "x" * (CAPTION_MAX_LENGTH + 1)])
def test_an_empty_or_over_long_caption_is_a_400_on_caption(ana, caption):
    response = post(ana, "/api/videos/", {"caption": caption})
    assert (response.status_code, list(response.json())) == (400, ["caption"])
    assert not Video.objects.exists() and not Event.objects.exists()


def test_a_view_is_counted(video, ana):
    response = post(ana, f"/api/videos/{video.pk}/views/")
    assert (response.status_code, response.json()["counts"]["views"]) == (201, 1)


def test_the_creators_own_view_is_not_counted(video):
    response = post(video.creator, f"/api/videos/{video.pk}/views/")
    assert (response.status_code, response.json()["counts"]["views"]) == (200, 0)


def test_a_like_answers_201_with_the_count_and_its_event(video, ana):
    response = post(ana, f"/api/videos/{video.pk}/likes/")
    assert response.status_code == 201
    assert response.json()["counts"]["likes"] == 1
    assert response.json()["event_id"] == Event.objects.get(kind="like").pk


def test_liking_twice_counts_once(video, ana):
    post(ana, f"/api/videos/{video.pk}/likes/")
    response = post(ana, f"/api/videos/{video.pk}/likes/")
    assert (response.status_code, response.json()["counts"]["likes"]) == (200, 1)


def test_unliking_takes_the_like_back(video, ana):
    post(ana, f"/api/videos/{video.pk}/likes/")
    assert api_client(ana).delete(f"/api/videos/{video.pk}/likes/").status_code == 204
    assert Video.objects.get(pk=video.pk).like_count == 0


def test_likes_group_in_the_creators_inbox_naming_the_latest_liker(video, ana, sharer, deliver):
    post(ana, f"/api/videos/{video.pk}/likes/")
    deliver()
    post(sharer, f"/api/videos/{video.pk}/likes/")
    deliver()
    (group,) = inbox(video.creator)
    assert (group["type"], group["count"], group["text"]) == ("like", 2, "@sam_sharer and 1 other liked your video")


def test_a_comment_answers_201_and_notifies_the_creator(video, ana, deliver):
    response = post(ana, f"/api/videos/{video.pk}/comments/", {"text": "great"})
    assert response.status_code == 201
    assert response.json()["event_id"] == Event.objects.get(kind="comment").pk
    assert Video.objects.get(pk=video.pk).comment_count == 1
    deliver()
    (notification,) = inbox(video.creator)
    assert (notification["type"], notification["text"]) == ("comment", "@ana commented: great")


def test_comments_are_listed_oldest_first(video, ana):
    post(ana, f"/api/videos/{video.pk}/comments/", {"text": "one"})
    post(ana, f"/api/videos/{video.pk}/comments/", {"text": "two"})
    listed = api_client(ana).get(f"/api/videos/{video.pk}/comments/").json()["results"]
    assert [c["text"] for c in listed] == ["one", "two"]


def test_a_mention_in_a_comment_notifies_the_mentioned_user(video, ana, sharer, deliver):
    post(sharer, f"/api/videos/{video.pk}/comments/", {"text": "look @ana"})
    deliver()
    assert [(n["type"], n["actor"]["username"]) for n in inbox(ana)] == [("mention", "sam_sharer")]


def test_a_mention_in_a_caption_notifies_the_mentioned_user(ana, sharer, deliver):
    post(sharer, "/api/videos/", {"caption": "with @ana at the beach"})
    deliver()
    assert [(n["type"], n["category"]) for n in inbox(ana)] == [("mention", "mentions")]


@pytest.mark.parametrize("text", ["", "y" * (COMMENT_MAX_LENGTH + 1)])
def test_an_empty_or_over_long_comment_is_a_400_on_text(video, ana, text):
    before = footprint(video)
    response = post(ana, f"/api/videos/{video.pk}/comments/", {"text": text})
    assert (response.status_code, list(response.json())) == (400, ["text"])
    assert footprint(video) == before


# Shares


def test_a_link_share_answers_201_with_the_count_and_its_event(video, sharer):
    response = share(sharer, video, channel="link")
    assert response.status_code == 201
    body = response.json()
    assert (body["channel"], body["share_count"], body["video"]["id"]) == ("link", 1, video.pk)
    assert body["event_id"] == Event.objects.get(kind="share").pk


def test_a_link_share_reaches_the_creator_as_an_anonymous_group(video, sharer, deliver):
    share(sharer, video, channel="link")
    deliver()
    response = api_client(video.creator).get("/api/inbox/")
    (notification,) = response.json()["results"]
    assert set(notification) == NOTIFICATION_KEYS
    assert (notification["type"], notification["actor"], notification["count"]) == ("share", None, 1)
    assert notification["text"] == "Your video was shared once"
    assert "sam_sharer" not in response.content.decode() and "Sam_Sharer" not in response.content.decode()


def test_a_tag_share_tags_each_user_and_tells_the_creator_anonymously(video, sharer, ana, deliver):
    response = share(sharer, video, channel="tag", tagged=["ana"])
    assert (response.status_code, response.json()["tagged"]) == (201, ["ana"])
    deliver()
    assert [(n["type"], n["actor"]["username"]) for n in inbox(ana)] == [("tag", "sam_sharer")]
    assert [(n["type"], n["actor"]) for n in inbox(video.creator)] == [("share", None)]


def test_a_tag_share_tagging_the_creator_shows_them_the_sharer(video, sharer, deliver):
    share(sharer, video, channel="tag", tagged=[video.creator.username])
    deliver()
    assert [(n["type"], n["actor"]["username"]) for n in inbox(video.creator)] == [("tag", "sam_sharer")]


def test_a_dm_share_lands_in_each_recipients_chat(video, sharer, ana, deliver):
    response = share(sharer, video, channel="dm", recipients=["ana"], message="watch this")
    assert (response.status_code, response.json()["recipients"]) == (201, ["ana"])
    deliver()
    (notification,) = inbox(ana)
    assert (notification["type"], notification["text"]) == ("message", "@sam_sharer sent you a message: watch this")
    messages = api_client(ana).get(f"/api/conversations/{notification['conversation']}/messages/").json()["results"]
    assert [(m["sender"]["username"], m["text"], m["video_detail"]["id"]) for m in messages] == [
        ("sam_sharer", "watch this", video.pk)
    ]
    assert [(n["type"], n["actor"]) for n in inbox(video.creator)] == [("share", None)]


def test_a_dm_share_to_the_creator_shows_them_the_sharer(video, sharer, deliver):
    share(sharer, video, channel="dm", recipients=[video.creator.username])
    deliver()
    assert [(n["type"], n["actor"]["username"]) for n in inbox(video.creator)] == [("message", "sam_sharer")]


def test_every_share_adds_one_to_the_share_count_whatever_the_channel(video, sharer, ana):
    share(sharer, video, channel="link")
    share(sharer, video, channel="tag", tagged=["ana"])
    share(sharer, video, channel="dm", recipients=["ana"])
    assert api_client(ana).get(f"/api/videos/{video.pk}/").json()["counts"]["shares"] == 3


def test_a_blocked_users_link_share_still_counts_in_the_creators_group(video, sharer, deliver):
    post(video.creator, "/api/users/sam_sharer/block/")
    assert share(sharer, video, channel="link").status_code == 201
    deliver()
    assert [(n["type"], n["count"]) for n in inbox(video.creator)] == [("share", 1)]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"channel": "carrier-pigeon"}, "channel"),
        ({}, "channel"),
        ({"channel": "tag"}, "tagged"),
        ({"channel": "tag", "tagged": []}, "tagged"),
        ({"channel": "dm"}, "recipients"),
        ({"channel": "dm", "recipients": []}, "recipients"),
        ({"channel": "tag", "tagged": ["ghost"]}, "tagged"),
        ({"channel": "dm", "recipients": ["ana", "ghost"]}, "recipients"),
        ({"channel": "dm", "recipients": "ana"}, "recipients"),
        ({"channel": "dm", "recipients": ["ana"], "message": "z" * (MESSAGE_MAX_LENGTH + 1)}, "message"),
    ],
)
def test_bad_share_input_is_a_400_on_the_field_and_writes_nothing(video, sharer, ana, data, field):
    before = footprint(video)
    response = share(sharer, video, **data)
    assert response.status_code == 400
    assert field in response.json()
    assert footprint(video) == before


def test_malformed_json_is_a_400_and_writes_nothing(video, sharer):
    before = footprint(video)
    response = api_client(sharer).post(
        f"/api/videos/{video.pk}/shares/", '{"channel": "link"', content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]
    assert footprint(video) == before


def test_a_broker_outage_at_commit_still_answers_201_and_leaves_the_event_to_the_sweeper(
    video, sharer, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(fan_out_event, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = share(sharer, video, channel="link")
    assert (response.status_code, len(callbacks)) == (201, 1)
    assert Event.objects.get(pk=response.json()["event_id"]).status == "pending"
    assert Video.objects.get(pk=video.pk).share_count == 1


def test_nobody_can_list_a_videos_sharers(video, sharer):
    share(sharer, video, channel="link")
    response = api_client(video.creator).get(f"/api/videos/{video.pk}/shares/")
    assert response.status_code == 405
    assert "sam_sharer" not in response.content.decode()


def test_sharing_an_unknown_video_is_404(sharer):
    assert share(sharer, Video(pk=999999), channel="link").status_code == 404


# Refusals: 403 with a clear detail, and nothing written


def _refused(response, *phrases):
    assert response.status_code == 403, response.content
    detail = response.json()["detail"]
    assert all(phrase in detail for phrase in phrases), detail


# What ana does first: (method, url, body).
ANA_BLOCKS_THE_SHARER = ("post", "/api/users/sam_sharer/block/", None)
ANA_ALLOWS_TAGS_FROM_NOBODY = ("patch", "/api/me/", {"tag_policy": "nobody"})
ANA_ALLOWS_DMS_FROM_FOLLOWERS = ("patch", "/api/me/", {"dm_policy": "followers"})
ANA_ALLOWS_DMS_FROM_NOBODY = ("patch", "/api/me/", {"dm_policy": "nobody"})
SHARES = "/api/videos/{video}/shares/"


@pytest.mark.parametrize(
    ("anas_setting", "url", "data", "phrases"),
    [
        pytest.param(
            ANA_BLOCKS_THE_SHARER,
            SHARES,
            {"channel": "tag", "tagged": ["ana"]},
            ["@ana", "blocked"],
            id="tagging-her-after-she-blocked-you",
        ),
        pytest.param(
            ANA_BLOCKS_THE_SHARER,
            SHARES,
            {"channel": "dm", "recipients": ["ana"]},
            ["@ana", "blocked"],
            id="dm-sharing-to-her-after-she-blocked-you",
        ),
        pytest.param(
            ANA_BLOCKS_THE_SHARER,
            "/api/videos/{video}/comments/",
            {"text": "hey @ana"},
            ["@ana", "blocked"],
            id="mentioning-her-in-a-comment-after-she-blocked-you",
        ),
        pytest.param(
            ANA_ALLOWS_TAGS_FROM_NOBODY,
            SHARES,
            {"channel": "tag", "tagged": ["ana"]},
            ["@ana", "don't allow"],
            id="tagging-her-when-she-allows-nobody",
        ),
        pytest.param(
            ANA_ALLOWS_TAGS_FROM_NOBODY,
            SHARES,
            {"channel": "tag", "tagged": ["ben", "ana"]},
            ["@ana"],
            id="tagging-her-and-someone-allowed-refuses-the-whole-share",
        ),
        pytest.param(
            ANA_ALLOWS_TAGS_FROM_NOBODY,
            "/api/videos/",
            {"caption": "with @ana"},
            ["@ana", "tag or mention"],
            id="mentioning-her-in-a-caption-when-she-allows-nobody",
        ),
        pytest.param(
            ANA_ALLOWS_DMS_FROM_FOLLOWERS,
            SHARES,
            {"channel": "dm", "recipients": ["ana"]},
            ["@ana", "followers"],
            id="dm-sharing-to-her-when-she-allows-only-followers-and-you-dont-follow-her",
        ),
        pytest.param(
            ANA_ALLOWS_DMS_FROM_NOBODY,
            "/api/conversations/",
            {"participants": ["ana"]},
            ["@ana", "direct messages"],
            id="starting-a-conversation-with-her-when-she-allows-no-dms",
        ),
    ],
)
def test_an_action_that_ana_refuses_is_a_403_naming_her_and_writes_nothing(
    video, sharer, ana, anas_setting, url, data, phrases
):
    UserFactory.create(username="ben")
    method, setting_url, setting = anas_setting
    getattr(api_client(ana), method)(setting_url, setting, format="json")
    before = footprint(video)
    _refused(post(sharer, url.format(video=video.pk), data), *phrases)
    assert footprint(video) == before


def test_dm_sharing_to_a_followers_only_user_you_follow_is_allowed(video, sharer, ana):
    api_client(ana).patch("/api/me/", {"dm_policy": "followers"}, format="json")
    post(sharer, "/api/users/ana/follow/")
    assert share(sharer, video, channel="dm", recipients=["ana"]).status_code == 201


def test_mentioning_an_unknown_name_is_just_text(video, sharer):
    assert post(sharer, f"/api/videos/{video.pk}/comments/", {"text": "hi @nobody_at_all"}).status_code == 201


def test_a_blocked_user_may_still_like_and_comment_without_notifying_the_blocker(video, sharer, deliver):
    post(video.creator, "/api/users/sam_sharer/block/")
    assert post(sharer, f"/api/videos/{video.pk}/likes/").status_code == 201
    assert post(sharer, f"/api/videos/{video.pk}/comments/", {"text": "hi"}).status_code == 201
    deliver()
    assert inbox(video.creator) == []


# Conversations and messages


def test_starting_a_conversation_answers_201_then_200_for_the_same_people(ana, sharer):
    first = post(sharer, "/api/conversations/", {"participants": ["ana"]})
    again = post(ana, "/api/conversations/", {"participants": ["sam_sharer"]})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert {m["username"] for m in first.json()["members"]} == {"ana", "sam_sharer"}


@pytest.mark.parametrize(
    "data",
    [{"participants": []}, {"participants": ["ghost"]}, {}, {"participants": ["ana"]}],
    ids=["nobody", "an-unknown-user", "no-participants-field", "only-yourself"],
)
def test_a_conversation_needs_known_participants_other_than_yourself(ana, data):
    response = post(ana, "/api/conversations/", data)
    assert (response.status_code, list(response.json())) == (400, ["participants"])
    assert not Conversation.objects.exists()


@pytest.fixture
def conversation(ana, sharer):
    return post(sharer, "/api/conversations/", {"participants": ["ana"]}).json()["id"]


def test_conversations_list_only_your_own(ana, sharer, conversation):
    UserFactory.create(username="ben")
    post(UserFactory.create(), "/api/conversations/", {"participants": ["ben"]})
    assert [c["id"] for c in api_client(ana).get("/api/conversations/").json()["results"]] == [conversation]


def test_a_message_answers_201_with_its_event_and_notifies_the_other_participant(ana, sharer, conversation, deliver):
    response = post(sharer, f"/api/conversations/{conversation}/messages/", {"text": "hello"})
    assert response.status_code == 201
    assert response.json()["event_id"] == Event.objects.get(kind="message").pk
    deliver()
    (notification,) = inbox(ana, "?category=messages")
    assert (notification["text"], notification["conversation"]) == (
        "@sam_sharer sent you a message: hello",
        conversation,
    )


def test_messages_are_listed_to_participants(ana, sharer, conversation, video):
    post(sharer, f"/api/conversations/{conversation}/messages/", {"text": "hello"})
    post(ana, f"/api/conversations/{conversation}/messages/", {"text": "", "video": video.pk})
    messages = api_client(ana).get(f"/api/conversations/{conversation}/messages/").json()["results"]
    assert [(m["sender"]["username"], m["text"]) for m in messages] == [("ana", ""), ("sam_sharer", "hello")]


@pytest.mark.parametrize("data", [{"text": ""}, {"text": "   "}, {}, {"text": "w" * (MESSAGE_MAX_LENGTH + 1)}])
def test_an_empty_or_over_long_message_is_a_400_on_text(sharer, conversation, data):
    before = footprint()
    response = post(sharer, f"/api/conversations/{conversation}/messages/", data)
    assert (response.status_code, list(response.json())) == (400, ["text"])
    assert footprint() == before


def test_a_message_with_an_unknown_video_is_a_400_on_video(sharer, conversation):
    response = post(sharer, f"/api/conversations/{conversation}/messages/", {"text": "hi", "video": 999999})
    assert (response.status_code, list(response.json())) == (400, ["video"])


def test_messaging_someone_who_blocked_you_since_is_refused_and_writes_nothing(ana, sharer, conversation):
    post(ana, "/api/users/sam_sharer/block/")
    before = footprint()
    _refused(post(sharer, f"/api/conversations/{conversation}/messages/", {"text": "hi?"}), "@ana", "blocked")
    assert footprint() == before


def test_other_peoples_conversations_are_404(conversation):
    outsider = UserFactory.create()
    assert api_client(outsider).get(f"/api/conversations/{conversation}/messages/").status_code == 404
    before = footprint()
    assert post(outsider, f"/api/conversations/{conversation}/messages/", {"text": "let me in"}).status_code == 404
    assert footprint() == before


def test_an_unknown_conversation_is_404(ana):
    assert api_client(ana).get("/api/conversations/999999/messages/").status_code == 404


# The inbox


@pytest.fixture
def busy_inbox(video, ana, sharer, deliver):
    """The creator's inbox: a share group, a like, a comment, a follow and a mention, all unread."""
    share(sharer, video, channel="link")
    post(ana, f"/api/videos/{video.pk}/likes/")
    post(ana, f"/api/videos/{video.pk}/comments/", {"text": "nice"})
    post(ana, f"/api/users/{video.creator.username}/follow/")
    post(sharer, f"/api/videos/{video.pk}/comments/", {"text": f"cc @{video.creator.username}"})
    deliver()
    return video.creator


def test_the_inbox_lists_notifications_most_recent_first(busy_inbox):
    assert [n["type"] for n in inbox(busy_inbox)] == ["comment", "follow", "comment", "like", "share"]


@pytest.mark.parametrize(
    ("category", "types"),
    [
        ("all", ["comment", "follow", "comment", "like", "share"]),
        ("shares", ["share"]),
        ("likes", ["like"]),
        ("comments", ["comment", "comment"]),
        ("followers", ["follow"]),
        ("mentions", []),
        ("messages", []),
        ("posts", []),
    ],
)
def test_the_inbox_filters_by_category(busy_inbox, category, types):
    assert [n["type"] for n in inbox(busy_inbox, f"?category={category}")] == types


def test_an_unknown_inbox_category_is_a_400(ana):
    response = api_client(ana).get("/api/inbox/?category=gossip")
    assert (response.status_code, list(response.json())) == (400, ["category"])


def test_the_inbox_filters_unread(busy_inbox):
    first = inbox(busy_inbox)[0]
    post(busy_inbox, f"/api/inbox/{first['id']}/read/")
    assert [n["id"] for n in inbox(busy_inbox, "?unread=1")] == [n["id"] for n in inbox(busy_inbox)[1:]]
    assert [n["id"] for n in inbox(busy_inbox, "?unread=0")] == [first["id"]]


def test_the_inbox_pages_with_a_cursor(creator, deliver):
    followers = UserFactory.create_batch(25)
    for follower in followers:
        post(follower, f"/api/users/{creator.username}/follow/")
    deliver()
    client, seen, url = api_client(creator), [], "/api/inbox/?limit=10"
    while url:
        page = client.get(url).json()
        assert len(page["results"]) <= 10
        seen += [n["actor"]["username"] for n in page["results"]]
        url = page["next"]
    assert seen == [f.username for f in reversed(followers)]


def test_a_notification_can_be_opened_by_its_recipient(busy_inbox):
    first = inbox(busy_inbox)[0]
    assert api_client(busy_inbox).get(f"/api/inbox/{first['id']}/").json() == first


def test_other_peoples_notifications_are_404(busy_inbox, ana):
    notification = inbox(busy_inbox)[0]
    assert api_client(ana).get(f"/api/inbox/{notification['id']}/").status_code == 404
    assert post(ana, f"/api/inbox/{notification['id']}/read/").status_code == 404
    assert Notification.objects.get(pk=notification["id"]).unread


def test_marking_a_notification_read(busy_inbox):
    first = inbox(busy_inbox)[0]
    response = post(busy_inbox, f"/api/inbox/{first['id']}/read/")
    assert (response.status_code, response.json()["unread"]) == (200, False)


def test_reading_the_share_group_closes_it_and_the_next_share_opens_a_new_one(video, sharer, ana, deliver):
    share(sharer, video, channel="link")
    share(ana, video, channel="link")
    deliver()
    (group,) = inbox(video.creator)
    post(video.creator, f"/api/inbox/{group['id']}/read/")
    share(sharer, video, channel="link")
    deliver()
    assert [(n["count"], n["unread"]) for n in inbox(video.creator)] == [(1, True), (2, False)]


def test_unread_count_is_given_by_category(busy_inbox):
    response = api_client(busy_inbox).get("/api/inbox/unread-count/")
    assert response.json() == {
        "total": 5,
        "by_category": {
            "shares": 1,
            "mentions": 0,
            "messages": 0,
            "followers": 1,
            "likes": 1,
            "comments": 2,
            "posts": 0,
        },
        "capped": False,
    }


def test_read_all_marks_everything_read(busy_inbox):
    response = post(busy_inbox, "/api/inbox/read-all/")
    assert response.json() == {"total": 0, "by_category": dict.fromkeys(CATEGORIES, 0), "capped": False}
    assert inbox(busy_inbox, "?unread=1") == []


def test_read_all_of_one_category_leaves_the_rest_unread(busy_inbox):
    response = api_client(busy_inbox).post("/api/inbox/read-all/?category=comments")
    assert response.json()["total"] == 3
    assert response.json()["by_category"]["comments"] == 0


def test_read_all_with_an_unknown_category_is_a_400_and_reads_nothing(busy_inbox):
    response = api_client(busy_inbox).post("/api/inbox/read-all/?category=gossip")
    assert (response.status_code, list(response.json())) == (400, ["category"])
    assert len(inbox(busy_inbox, "?unread=1")) == 5


# Events


def test_the_actor_sees_an_event_go_from_pending_to_done(video, sharer, deliver):
    event_id = share(sharer, video, channel="tag", tagged=[video.creator.username]).json()["event_id"]
    pending = api_client(sharer).get(f"/api/events/{event_id}/").json()
    assert (pending["id"], pending["kind"], pending["status"], pending["done_at"]) == (
        event_id,
        "share",
        "pending",
        None,
    )
    deliver()
    done = api_client(sharer).get(f"/api/events/{event_id}/").json()
    assert set(done) == {"id", "kind", "status", "release_at", "created_at", "done_at", "notifications"}
    assert (done["status"], done["notifications"]) == ("done", 1)


def test_other_users_events_are_404_even_for_the_creator(video, sharer):
    event_id = share(sharer, video, channel="link").json()["event_id"]
    assert api_client(video.creator).get(f"/api/events/{event_id}/").status_code == 404


def test_staff_may_see_any_event(video, sharer):
    event_id = share(sharer, video, channel="link").json()["event_id"]
    staff = UserFactory.create(is_staff=True)
    assert api_client(staff).get(f"/api/events/{event_id}/").status_code == 200


def test_the_openapi_schema_generates_valid_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert "/api/inbox/unread-count/" in (tmp_path / "schema.yaml").read_text()


def test_the_openapi_schema_is_served(ana):
    response = api_client(ana).get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/videos/{id}/shares/" in response.content
