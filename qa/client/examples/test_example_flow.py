"""An example QA flow with the kit: the privacy rule seen from the creator's inbox, batching or not.

Run against a running server: ``pytest --shareloop-url http://127.0.0.1:8000 examples/``.
"""

import pytest
from shareloop_qa import ApiError, wait_for, wait_until_quiet


def test_a_link_share_tells_the_creator_how_often_never_by_whom(user_factory, video_factory, release_held):
    cara, ana, ben = user_factory("cara"), user_factory("ana"), user_factory("ben")
    video = video_factory(cara, "Sunrise timelapse")

    ana.share(video["id"], "link")
    ben.share(video["id"], "tag", tagged=[cara.username])
    wait_until_quiet(ana)
    wait_until_quiet(ben)
    release_held()  # production batching holds the anonymous share until its window closes
    assert wait_for(ana, ana.event_ids[-1])["status"] == "done"

    inbox = {n["type"]: n for n in cara.inbox()}
    assert (inbox["share"]["count"], inbox["share"]["actor"]) == (1, None)
    assert inbox["tag"]["actor"]["username"] == ben.username
    assert cara.video(video["id"])["counts"]["shares"] == 2


def test_a_blocked_user_cannot_tag_the_blocker(user_factory, video_factory):
    cara, ben = user_factory("cara"), user_factory("ben")
    video = video_factory(ben)
    cara.block(ben.username)
    with pytest.raises(ApiError) as refusal:
        ben.share(video["id"], "tag", tagged=[cara.username])
    assert refusal.value.status == 403 and "blocked you" in refusal.value.body["detail"]
