from datetime import date

from django.core.management.base import BaseCommand, CommandError

from analytics import selectors, services


class Command(BaseCommand):
    help = "Fold raw views, likes, comments, shares and follows into daily aggregates, one UTC day at a time."

    def add_arguments(self, parser):
        parser.add_argument("--since", type=date.fromisoformat, required=True, help="first UTC day, YYYY-MM-DD")
        parser.add_argument("--until", type=date.fromisoformat, help="last UTC day, YYYY-MM-DD (default: today)")

    def handle(self, *args, since: date, until: date | None, **options):
        today = selectors.today_utc()
        until = until or today
        if until > today:
            raise CommandError(f"--until {until} is after today ({today}, UTC).")
        if since > until:
            raise CommandError(f"--since {since} is after --until {until}.")
        days = services.days_between(since, until)
        width = len(str(len(days)))
        folded = skipped = 0
        for number, day in enumerate(days, start=1):
            fold = services.rollup_day(day=day)
            if fold.skipped_pruned:
                skipped += 1
                outcome = "kept (raw views already pruned)"
            else:
                folded += 1
                outcome = f"{fold.videos} videos, {fold.creators} creators"
            self.stdout.write(f"[{number:>{width}}/{len(days)}] {day}: {outcome}")
        self.stdout.write(
            self.style.SUCCESS(f"Folded {folded} days from {since} to {until}; kept {skipped} pruned days.")
        )
