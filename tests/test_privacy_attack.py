"""The privacy attacker runs and tells a leak from none (a tiny size: its figures live in docs/privacy.md)."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def attack(only: str) -> dict[str, dict]:
    """The attacker's figures at a tiny size, by setup, for the setups whose name contains ``only``."""
    out = StringIO()
    call_command("privacy_attack", "--seed", "3", "--users", "8", "--hours", "2", "--only", only, "--json", stdout=out)
    return {row["setup"]: row for row in json.loads(out.getvalue())["results"]}


def test_with_batching_off_the_attacker_guesses_sharers_far_above_chance_and_sees_counts_move_any_time():
    control = attack("positive control")["batching off (positive control)"]
    assert control["shares_observed"] == control["shares_made"] > 0
    assert control["advantage_ci95"][0] > 0
    assert control["count_moves_off_boundary"] > 0


def test_with_batching_on_every_count_the_attacker_reads_moves_only_at_a_window_boundary():
    batched = attack("batching on")
    assert {row["count_moves_off_boundary"] for row in batched.values()} == {0}
    assert all(row["shares_observed"] == row["shares_made"] for row in batched.values())
