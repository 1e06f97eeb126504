from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from qa.scenarios import ScenarioFormatError, scenario_load

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
    assert errors == ["2: users.ana.dm_polcy: unknown key 'dm_polcy'; expected one of: "
                      "display_name, dm_policy, tag_policy, muted_types, is_pro"]  # fmt: skip


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
    (error,) = _errors(tmp_path, "users:\n  ana: {}\nsteps:\n  - \"ana: like v1\nexpect: {}\n")
    assert error.startswith("6: not valid YAML") and "line 4" in error
