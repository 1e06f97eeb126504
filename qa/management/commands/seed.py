"""Idempotent demo data: named users with known passwords and a lived-in world (qa/demo_world.py).

The world is built once: running it again changes nothing (and restores the demo passwords);
``--reset`` deletes the users first, which takes everything they did with them, and builds the same
world again.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from rest_framework.authtoken.models import Token

from qa.demo_world import DAYS, FANS, World, world_exists
from video_platform import services
from video_platform.models import Conversation

User = get_user_model()

DEMO_PASSWORD = "shareloop-demo"
DEMO_USERS = [
    ("ana", "Ana Alvarez"),
    ("ben", "Ben Brooks"),
    ("cara", "Cara Chen"),
    ("dev", "Dev Dasgupta"),
    ("eli", "Eli Evans"),
]
PRO_USERS = {"cara"}
# Staff with the roles made by inbox/migrations/0004_operator_roles.
OPERATOR_USERS = [("support", "Support"), ("moderator", "Moderator")]


class Command(BaseCommand):
    help = f"Create the demo users (password '{DEMO_PASSWORD}') and 60 days of activity. Safe to re-run."

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset", action="store_true", help="delete every non-staff user and all they did, then seed again"
        )

    def handle(self, *args, reset=False, **options):
        with transaction.atomic():
            if reset:
                deleted, _ = User.objects.filter(is_staff=False).delete()
                Conversation.objects.filter(participants=None).delete()
                self.stdout.write(f"Reset: deleted {deleted} rows.")
            users = self._users(DEMO_USERS)
            people = users | self._users(FANS, restore_password=False)
            if not world_exists(people):
                summary = World(people).build()
                self.stdout.write(
                    f"Built the demo world: {summary.videos} videos, {summary.actions} actions and "
                    f"{summary.views} views over {DAYS} days."
                )
            admin = User.objects.filter(username="admin").first()
            if admin is None:
                admin = User.objects.create_superuser("admin", "admin@example.com", DEMO_PASSWORD)
            operators = [self._operator(username, role) for username, role in OPERATOR_USERS]
        self._print_logins([*users.values(), admin, *operators])

    def _operator(self, username: str, role: str):
        operator = User.objects.filter(username=username).first()
        if operator is None:
            operator = User.objects.create_user(username, password=DEMO_PASSWORD, is_staff=True)
        operator.groups.add(Group.objects.get(name=role))
        return operator

    def _users(self, names: list[tuple[str, str]], *, restore_password: bool = True) -> dict:
        # Hashing is slow on purpose; the demo password is hashed once and shared by every demo user.
        password_hash = make_password(DEMO_PASSWORD)
        users = {}
        for username, display_name in names:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User.objects.create(username=username, password=password_hash)
            elif restore_password and not user.check_password(DEMO_PASSWORD):
                user.password = password_hash
                user.save(update_fields=["password"])
            services.profile_update(user=user, display_name=display_name, is_pro=username in PRO_USERS)
            users[username] = user
        return users

    def _print_logins(self, users: list) -> None:
        rows = [("username", "display name", "password", "API token")]
        for user in users:
            token, _ = Token.objects.get_or_create(user=user)
            name = user.profile.display_name
            if user.is_staff:
                role = user.groups.values_list("name", flat=True).first()
                name = f"staff ({role}): /admin/" if role else "staff: /admin/"
            if user.profile.is_pro:
                name += " (Pro)"
            rows.append((user.username, name, DEMO_PASSWORD, token.key))
        widths = [max(len(row[column]) for row in rows) for column in range(3)]
        self.stdout.write(self.style.SUCCESS(f"Demo users (password for all: {DEMO_PASSWORD}):"))
        for row in rows:
            self.stdout.write(
                "  " + "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)) + "  " + row[3]
            )
