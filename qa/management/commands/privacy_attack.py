"""The timing attack on anonymous shares, measured like a benchmark (docs/privacy.md has the figures)."""

from json import dumps

from django.core.management.base import BaseCommand

from qa.privacy_attack import default_setups, run_attack


class Command(BaseCommand):
    help = (
        "A creator polls every surface it can read while its audience likes, comments and shares by link "
        "(seeded, in simulated time), and guesses each sharer from the named actions just before a count "
        "moved. Prints accuracy against chance with 95% intervals: batching off (the positive control), "
        "batching on, and a small quiet creator without and with a minimum crowd. Writes nothing: every run "
        "is rolled back."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1, help="random seed of the audience's behaviour")
        parser.add_argument("--users", type=int, default=30, help="the large creator's audience")
        parser.add_argument("--hours", type=float, default=8.0, help="simulated hours (small creators: 4x)")
        # Fixed defaults, not the deployment's settings: the same command gives the same figures anywhere.
        parser.add_argument("--window", type=int, default=600, help="batch window in seconds when batching is on")
        parser.add_argument("--min-crowd", type=int, default=3, help="the small creator's minimum crowd")
        parser.add_argument("--max-delay", type=int, default=3600, help="the minimum crowd's maximum delay (s)")
        parser.add_argument("--only", help="run only the setups whose name contains this text")
        parser.add_argument("--json", action="store_true", help="print the figures as JSON")

    def handle(self, *args, seed, users, hours, window, min_crowd, max_delay, only, json, **options):
        setups = default_setups(users=users, hours=hours, window=window, min_crowd=min_crowd, max_delay=max_delay)
        results = []
        for setup in setups:
            if only and only not in setup.name:
                continue
            results.append(run_attack(setup, seed=seed).as_dict())
            if not json:
                self._print_row(results[-1])
        if json:
            self.stdout.write(dumps({"seed": seed, "results": results}, indent=2))

    def _print_row(self, row: dict) -> None:
        low, high = row["accuracy_ci95"]
        gain_low, gain_high = row["advantage_ci95"]
        verdict = "indistinguishable from chance"
        if gain_low > 0 or gain_high < 0:
            verdict = "above chance" if gain_low > 0 else "below chance"
        self.stdout.write(
            f"{row['setup']}: {row['shares_observed']} of {row['shares_made']} shares observed; "
            f"guessed right {row['accuracy']:.1%} [95% CI {low:.1%}–{high:.1%}], chance {row['chance']:.1%}, "
            f"accuracy − chance in [{gain_low:+.1%}, {gain_high:+.1%}]: {verdict}; "
            f"{row['alone_in_span']} sharer(s) alone in their span; the counts moved {row['count_moves']} "
            f"times, {row['count_moves_off_boundary']} of them away from a window boundary"
        )
