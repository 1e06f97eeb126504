import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from inbox.models import Notification
from video_platform.models import Event, Share

pytestmark = pytest.mark.django_db(transaction=True)


def _simulate(seed: int) -> str:
    out = StringIO()
    call_command("simulate", "--users", "6", "--actions", "80", "--seed", str(seed), stdout=out, stderr=StringIO())
    return out.getvalue()


def test_same_seed_gives_the_same_actions_and_the_same_summary(celery_worker):
    first = _simulate(11)
    shares_first = sorted(Share.objects.values_list("sharer__username", "video__caption", "channel"))
    second = _simulate(11)
    assert second == first
    assert sorted(Share.objects.values_list("sharer__username", "video__caption", "channel")) == shares_first


def test_simulation_waits_until_every_event_is_delivered(celery_worker):
    summary = _simulate(5)
    assert Event.objects.exists()
    assert not Event.objects.exclude(status="done").exists()
    assert "refused (failures)" in summary
    for kind in ("share", "post", "follow"):
        assert Notification.objects.filter(type=kind).exists()


def test_simulated_shares_never_name_the_sharer_but_tags_and_dms_do(celery_worker):
    _simulate(5)
    shares = Notification.objects.filter(type="share")
    assert shares.exists()
    assert not shares.exclude(actor=None).exists()
    named = Notification.objects.filter(type__in=["tag", "message"])
    assert named.exists()
    assert not named.filter(actor=None).exists()


def test_the_json_summary_carries_the_same_figures_as_the_tables(celery_worker):
    out = StringIO()
    call_command("simulate", "--users", "5", "--actions", "40", "--seed", "9", "--json", stdout=out, stderr=StringIO())
    summary = json.loads(out.getvalue())
    assert (summary["seed"], summary["users"], summary["actions"]) == (9, 5, 40)
    assert sum(kind["done"] + kind["refused"] for kind in summary["actions_by_kind"].values()) == 40
    assert summary["events"] == {"pending": 0, "held": 0, "done": Event.objects.count(), "failed": 0}
    assert sum(n["rows"] for n in summary["notifications"].values()) == Notification.objects.count()


@override_settings(SHARE_NOTIFICATION_BATCH_SECONDS=600)
def test_with_batching_the_summary_counts_held_events_until_release_held_releases_them(deliver):
    """A unit test of the summary under production batching, which the session worker does not run."""

    def simulate(*flags) -> tuple[dict, str]:
        out, err = StringIO(), StringIO()
        arguments = ["--users", "5", "--actions", "60", "--seed", "4", "--json", *flags]
        with deliver.as_sent():
            call_command("simulate", *arguments, stdout=out, stderr=err)
        return json.loads(out.getvalue()), err.getvalue()

    held, note = simulate()
    assert held["events"]["held"] > 0 and "--release-held releases them now" in note
    released, _ = simulate("--release-held")
    assert released["events"]["held"] == 0 and released["events"]["done"] == Event.objects.count()
    assert released["notifications"]["share"]["count"] > held["notifications"].get("share", {"count": 0})["count"]
