import json
import re
from io import StringIO
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import override_settings

from inbox.models import HeldShare
from qa.scenarios import ScenarioFormatError, scenario_load
from video_platform import services
from video_platform.models import Event

from .factories import UserFactory, VideoFactory

User = get_user_model()

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


def _run(*paths) -> str:
    out = StringIO()
    try:
        call_command("scenario", *map(str, paths), "--timeout", "60", stdout=out, stderr=out)
    except CommandError as exc:
        raise AssertionError(f"{exc}\n{out.getvalue()}") from exc
    return out.getvalue()


def _errors(tmp_path, text: str) -> list[str]:
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioFormatError) as caught:
        scenario_load(path)
    return [str(error) for error in caught.value.errors]


def test_there_is_a_scenario_for_every_row_of_the_privacy_table():
    names = {path.stem for path in SCENARIOS}
    rows = {"link_share", "tag_share", "dm_share", "direct_message", "follow", "like", "comment", "mention", "post"}
    extras = {"blocks", "dm_policy", "tag_policy", "muted_types", "grouping"}
    assert rows | extras <= names


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", SCENARIOS, ids=[path.stem for path in SCENARIOS])
def test_shipped_scenario_passes(celery_worker, path):
    out = _run(path)
    assert "FAIL" not in out
    assert "0 failed" in out


@pytest.mark.django_db(transaction=True)
def test_a_wrong_expectation_fails_with_a_diff_and_a_nonzero_exit(celery_worker, tmp_path):
    path = tmp_path / "wrong.yaml"
    path.write_text(
        "users: {cara: {}, ana: {}}\n"
        "videos: {v1: {creator: cara}}\n"
        "steps: ['ana: share v1 by link', {do: 'ana: like v1', refused: true}]\n"
        "expect:\n"
        "  inboxes:\n"
        "    cara: [{type: share, count: 1, actor: ana}]\n"
    )
    out = StringIO()
    with pytest.raises(CommandError, match="1 scenario"):
        call_command("scenario", str(path), stdout=out, stderr=out)
    report = out.getvalue()
    assert "FAIL  step 2 (line 3) `ana: like v1` is refused" in report
    assert "-{type: share, actor: ana, count: 1}" in report
    assert "+{type: share, actor: null, count: 1}" in report


def test_unknown_keys_are_reported_with_their_line(tmp_path):
    errors = _errors(tmp_path, "users:\n  ana: {dm_polcy: nobody}\nsteps: []\nexpect: {inboxes: {ana: []}}\n")
    assert errors == [
        (
            "2: users.ana.dm_polcy: unknown key 'dm_polcy'; expected one of: "
            "display_name, dm_policy, tag_policy, muted_types, is_pro"
        )
    ]


def test_unreadable_steps_say_what_was_expected(tmp_path):
    errors = _errors(
        tmp_path,
        "users: {ana: {}}\nvideos: {v1: {creator: ana}}\nsteps:\n  - 'ana: share v1 by lnk'\n"
        "expect: {unread: {ana: {total: 0}}}\n",
    )
    assert len(errors) == 1
    assert errors[0].startswith("4: steps[0]: cannot read step 'ana: share v1 by lnk'; expected: ana: share v1 by link")


def test_unknown_users_and_videos_are_reported(tmp_path):
    errors = _errors(
        tmp_path,
        "users: {ana: {}}\nsteps:\n  - 'ana: like v9'\n  - 'zed: follow ana'\n"
        "expect:\n  inboxes:\n    ana: [{type: like, actor: bob}]\n",
    )
    assert errors == [
        "3: steps[0]: unknown video 'v9': declare it under `videos:` or post it in an earlier step",
        "4: steps[1]: unknown user 'zed': declare it under `users:` (ana)",
        "7: expect.inboxes.ana[0].actor: unknown user 'bob': declare it under `users:` (ana)",
    ]


def test_bad_values_and_broken_yaml_name_the_line(tmp_path):
    assert _errors(tmp_path, "users: {ana: {tag_policy: sometimes}}\nsteps: []\nexpect: {inboxes: {ana: []}}\n") == [
        "1: users.ana.tag_policy: 'sometimes' is not one of ['everyone', 'followers', 'nobody']"
    ]
    (error,) = _errors(tmp_path, 'users:\n  ana: {}\nsteps:\n  - "ana: like v1\nexpect: {}\n')
    assert error.startswith("6: not valid YAML") and "line 4" in error


LIKE_SCENARIO = (
    "users: {cara: {}, ana: {}}\nvideos: {v1: {creator: cara}}\nsteps: ['ana: like v1']\n"
    "expect:\n  inboxes:\n    cara: [{type: like, actor: ana, count: 1}]\n"
)
SHARE_SCENARIO = (
    "users: {cara: {}, ana: {}}\nvideos: {v1: {creator: cara}}\nsteps: ['ana: share v1 by link']\n"
    "expect:\n  inboxes:\n    cara: [{type: share, actor: null, count: 1}]\n"
)


def _run_failing(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("scenario", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), str(caught.value)


def test_names_differing_only_in_case_are_a_validation_error(tmp_path):
    errors = _errors(tmp_path, "users:\n  cara: {}\n  Cara: {}\nsteps: []\nexpect: {inboxes: {cara: []}}\n")
    assert errors == ["3: users.Cara: same name as 'cara' apart from case: usernames ignore case"]


@pytest.mark.django_db(transaction=True)
def test_an_error_inside_one_file_fails_that_file_and_the_run_goes_on(celery_worker, tmp_path, monkeypatch):
    def share_that_breaks(**kwargs):
        raise RuntimeError("the share service broke")

    monkeypatch.setattr("video_platform.services.video_share", share_that_breaks)
    (tmp_path / "a_share.yaml").write_text(SHARE_SCENARIO)
    (tmp_path / "b_like.yaml").write_text(LIKE_SCENARIO)
    out, error = _run_failing(tmp_path)
    assert "FAIL  the scenario stopped on an error" in out
    assert "RuntimeError: the share service broke" in out
    assert "PASS  inbox of cara (line 6)" in out.split("b_like.yaml")[1]
    assert "2 scenarios: 1 passed, 1 failed (" in out and error == "1 scenario(s) failed."


@pytest.mark.django_db(transaction=True)
def test_the_summary_counts_scenarios_and_checks_separately(celery_worker, tmp_path):
    (tmp_path / "like.yaml").write_text(LIKE_SCENARIO)
    assert "1 scenarios: 1 passed, 0 failed (2 checks)" in _run(tmp_path / "like.yaml")


@pytest.mark.django_db(transaction=True)
def test_junit_and_json_reports_have_one_case_per_expectation_and_failures_carry_the_diff(celery_worker, tmp_path):
    (tmp_path / "like.yaml").write_text(LIKE_SCENARIO)
    (tmp_path / "wrong.yaml").write_text(LIKE_SCENARIO.replace("actor: ana", "actor: null"))
    junit, report = tmp_path / "results.xml", tmp_path / "results.json"
    _run_failing(tmp_path / "like.yaml", tmp_path / "wrong.yaml", "--junit", junit, "--json", report)

    suites = ET.parse(junit).getroot()
    assert (suites.tag, suites.get("tests"), suites.get("failures")) == ("testsuites", "4", "1")
    cases = suites.findall("testsuite/testcase")
    names = ["inbox of cara (line 6)", "no share notification names anyone (0 checked)"]
    assert [case.get("name") for case in cases] == names * 2
    (failure,) = suites.findall(".//failure")
    assert "-{type: like, actor: null, count: 1}" in failure.text
    assert "+{type: like, actor: ana, count: 1}" in failure.text

    results = json.loads(report.read_text())
    assert (results["scenarios"], results["passed"], results["failed"], results["checks"]) == (2, 1, 1, 4)
    assert [r["passed"] for r in results["results"]] == [True, False]


@pytest.mark.django_db(transaction=True)
def test_a_run_deletes_its_users_unless_kept_and_cleanup_never_touches_others(celery_worker, tmp_path):
    (tmp_path / "like.yaml").write_text(LIKE_SCENARIO)
    _run(tmp_path / "like.yaml")
    assert not User.objects.filter(username__regex=r"_[0-9a-f]{6}_1$").exists()

    out = _run(tmp_path / "like.yaml", "--keep")
    run_id = re.search(r"^Run ([0-9a-f]{6}):", out, re.MULTILINE).group(1)
    assert set(User.objects.filter(username__endswith=f"_{run_id}_1").values_list("username", flat=True)) == {
        f"cara_{run_id}_1",
        f"ana_{run_id}_1",
    }
    look_alike = UserFactory.create(username=f"demo_{run_id}_1")  # a name like theirs, but not the run's
    cleanup = StringIO()
    call_command("scenario", "--cleanup", run_id, stdout=cleanup)
    assert cleanup.getvalue().startswith(f"Deleted 2 user(s) of run {run_id}")
    assert list(User.objects.filter(username__endswith=f"_{run_id}_1")) == [look_alike]


@pytest.mark.django_db(transaction=True)
def test_with_production_batching_the_runner_sees_held_events_and_releases_only_its_own(tmp_path, deliver):
    """A unit test of the runner under production batching, which the session worker does not run."""
    someone_elses = VideoFactory.create()
    (tmp_path / "share.yaml").write_text(SHARE_SCENARIO)
    with override_settings(SHARE_NOTIFICATION_BATCH_SECONDS=600), deliver.as_sent():
        services.video_share(sharer=UserFactory.create(), video=someone_elses, channel="link")
        out = _run(tmp_path / "share.yaml")
    assert "Share batching is on (600 s windows)" in out
    assert "PASS  inbox of cara (line 6)" in out
    assert list(HeldShare.objects.values_list("recipient", flat=True)) == [someone_elses.creator_id]
    assert Event.objects.filter(status="held").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_write_throttle_too_low_for_a_file_is_refused_in_one_line(tmp_path):
    (tmp_path / "like.yaml").write_text(LIKE_SCENARIO)
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] | {"writes": "1/minute"}
    with override_settings(REST_FRAMEWORK=settings.REST_FRAMEWORK | {"DEFAULT_THROTTLE_RATES": rates}):
        _, error = _run_failing(tmp_path / "like.yaml")
    assert "\n" not in error and "THROTTLE_RATE_WRITES=1/minute" in error


def test_parallel_groups_and_moderation_steps_are_validated(tmp_path):
    errors = _errors(
        tmp_path,
        "users: {cara: {}, ana: {}}\nvideos: {v1: {creator: cara}}\nsteps:\n"
        "  - parallel: ['ana: like v1', 'ana: post v2']\n  - 'ana: hide v1'\n  - parallel: ['ana: view v1']\n"
        "expect: {stream: {cara: [{event: unread_count, total: 0}]}}\n",
    )
    assert errors == [
        "4: steps[0].parallel[1]: a post cannot run in parallel: its label is needed by the steps after it",
        "5: steps[1]: moderation is done by staff: `staff: hide v1`",
        "6: steps[2].parallel: ['ana: view v1'] is too short",
    ]


@pytest.mark.django_db(transaction=True)
def test_a_wrong_stream_expectation_fails_with_the_messages_in_order(celery_worker, tmp_path):
    (tmp_path / "stream.yaml").write_text(
        "users: {cara: {}, ana: {}}\nvideos: {v1: {creator: cara}}\nsteps: ['ana: share v1 by link']\n"
        "expect:\n  stream:\n    cara: [{event: unread_count, total: 1}, {event: notification, type: share}]\n"
    )
    out, _ = _run_failing(tmp_path / "stream.yaml")
    assert "FAIL  stream of cara (line 6)" in out
    assert "+{event: notification, type: share, category: shares, video: v1, actor: null, count: 1" in out


@pytest.mark.django_db(transaction=True)
def test_unread_expectations_may_name_capped_and_a_wrong_one_fails(celery_worker, tmp_path):
    (tmp_path / "capped.yaml").write_text(
        "users: {cara: {}, ana: {}}\nvideos: {v1: {creator: cara}}\nsteps: ['ana: share v1 by link']\n"
        "expect:\n  unread:\n    cara: {total: 1, shares: 1, capped: true}\n"
        "  stream:\n    cara: [{event: notification, type: share}, {event: unread_count, total: 1, capped: false}]\n"
    )
    out, _ = _run_failing(tmp_path / "capped.yaml")
    assert "FAIL  unread counts of cara (line 6)" in out
    assert "-capped: True" in out
    assert "+capped: False" in out
    assert "PASS  stream of cara (line 8)" in out


@pytest.mark.django_db(transaction=True)
@override_settings(SECURE_SSL_REDIRECT=True)
def test_scenarios_run_where_production_redirects_plain_http_to_https(celery_worker, tmp_path):
    (tmp_path / "like.yaml").write_text(LIKE_SCENARIO)
    assert "1 scenarios: 1 passed, 0 failed" in _run(tmp_path / "like.yaml")
