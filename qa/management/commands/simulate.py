"""Deterministic load through the real services, then a summary once every event is delivered."""

from contextlib import nullcontext
from json import dumps

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from inbox import batching
from qa.simulation import (
    SIMULATED_PASSWORD,
    Simulation,
    notifications_by_type,
    simulated_events,
    simulated_user_ids,
    simulation_summary,
)
from qa.waiting import DeliveryTimeout, events_wait_delivered
from qa.worker import worker_process


class Command(BaseCommand):
    help = (
        "Simulate N users doing M actions (views, likes, comments, shares on every channel, DMs, posts, "
        "follows, blocks) through the real services. The same --seed gives the same actions and the same "
        "summary; an earlier run's users of that seed are deleted first."
    )

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=20, help="simulated users (at least 3)")
        parser.add_argument("--actions", type=int, default=500, help="actions after the set-up")
        parser.add_argument("--seed", type=int, default=1, help="random seed: usernames are sim<seed>_NNNN")
        parser.add_argument("--rate", type=float, default=None, help="at most this many actions per second")
        parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for delivery")
        parser.add_argument("--worker", action="store_true", help="start a Celery worker for this run")
        parser.add_argument("--json", action="store_true", help="print the summary as JSON instead of tables")
        parser.add_argument(
            "--release-held",
            action="store_true",
            help="with share batching on, release the simulated users' held shares before the summary",
        )

    def handle(self, *args, users, actions, seed, rate, timeout, worker, json, release_held, **options):
        if users < 3:
            raise CommandError("--users must be at least 3.")
        if actions < 0 or (rate is not None and rate <= 0):
            raise CommandError("--actions must be ≥ 0 and --rate > 0.")
        with worker_process() if worker else nullcontext():
            simulation = Simulation(users=users, seed=seed, wait_for_delivery=lambda: self._wait(simulation, timeout))
            deleted = simulation.reset()
            if deleted:
                # On stderr, so the summaries of two runs with one seed compare equal.
                self.stderr.write(f"Deleted the earlier run of seed {seed} ({deleted} rows).")
            simulation.set_up()
            for _ in tqdm(simulation.run(actions, rate=rate), total=actions, desc="actions", unit="action"):
                pass
            with tqdm(desc="delivery", unit="event") as bar:
                statuses = self._wait(simulation, timeout, bar)
            if release_held and statuses["held"]:
                batching.held_shares_release(everything=True, recipient_ids=simulated_user_ids(simulation.prefix))
                statuses = self._wait(simulation, timeout)
        if statuses["held"]:
            self.stderr.write(
                f"{statuses['held']} event(s) are held until their share batch window closes: --release-held "
                "releases them now (POST /api/qa/release-held/ does it for everyone)."
            )
        summary = simulation_summary(simulation, statuses, seed=seed, users=users, actions=actions)
        if json:
            self.stdout.write(dumps(summary, indent=2))
        else:
            self._summary(simulation, statuses, seed=seed, users=users, actions=actions)
        if statuses["failed"]:
            raise CommandError(f"{statuses['failed']} event(s) failed: see the worker log or Django admin.")

    def _wait(self, simulation: Simulation, timeout: float, bar: tqdm | None = None) -> dict[str, int]:
        def progress(finished, total):
            if bar is not None:
                bar.total = total
                bar.update(finished - bar.n)

        try:
            return events_wait_delivered(simulated_events(simulation.prefix), timeout=timeout, on_progress=progress)
        except DeliveryTimeout as exc:
            raise CommandError(str(exc)) from exc

    def _summary(self, simulation: Simulation, statuses: dict, *, seed: int, users: int, actions: int) -> None:
        result, write = simulation.result, self.stdout.write
        setup = ", ".join(f"{n} {what}" for what, n in result.setup.items())
        write(self.style.MIGRATE_HEADING(f"\nSimulation seed={seed} users={users} actions={actions}"))
        write(f"set-up: {setup}; users are {simulation.prefix}NNNN, password {SIMULATED_PASSWORD}")
        refused_by_kind = {}
        for (kind, _), n in result.refused.items():
            refused_by_kind[kind] = refused_by_kind.get(kind, 0) + n
        write(f"\n{'action':<14}{'done':>7}{'refused':>9}")
        for kind in sorted(set(result.performed) | set(refused_by_kind)):
            write(f"{kind:<14}{result.performed[kind]:>7}{refused_by_kind.get(kind, 0):>9}")
        write(f"{'total':<14}{sum(result.performed.values()):>7}{sum(refused_by_kind.values()):>9}")
        write(f"\n{'events':<14}" + "".join(f"{status:>9}" for status in statuses))
        write(f"{'':<14}" + "".join(f"{n:>9}" for n in statuses.values()))
        write(f"\n{'notification':<14}{'rows':>7}{'count':>9}")
        for kind, (rows, total) in notifications_by_type(simulation.prefix).items():
            write(f"{kind:<14}{rows:>7}{total:>9}")
        write("\nrefused (failures), by reason:" if result.refused else "\nrefused (failures): none")
        for (kind, reason), n in sorted(result.refused.items()):
            write(f"{n:>6}  {kind}: {reason}")
