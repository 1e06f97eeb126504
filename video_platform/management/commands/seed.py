"""Idempotent demo data: named users with known passwords, follows, videos and some activity."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from video_platform import services
from video_platform.models import Video

User = get_user_model()

DEMO_PASSWORD = "shareloop-demo"
DEMO_USERS = [
    ("ana", "Ana Alvarez"),
    ("ben", "Ben Brooks"),
    ("cara", "Cara Chen"),
    ("dev", "Dev Dasgupta"),
    ("eli", "Eli Evans"),
]
# Staff with the roles made by inbox/migrations/0002_operator_roles.
OPERATOR_USERS = [("support", "Support"), ("moderator", "Moderator")]
DEMO_VIDEOS = {
    "cara": ["Sunrise timelapse over the bay", "Three-minute ramen hack"],
    "ana": ["Skateboard kickflip, slow motion"],
    "ben": ["My cat vs. the cucumber"],
}


class Command(BaseCommand):
    help = "Create the demo users (password '%s'), follows, videos and some activity. Safe to re-run." % DEMO_PASSWORD

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="delete every non-staff user and their data first")

    @transaction.atomic
    def handle(self, *args, reset=False, **options):
        if reset:
            deleted, _ = User.objects.filter(is_staff=False).delete()
            self.stdout.write(f"Reset: deleted {deleted} rows.")
        users = {}
        for username, display_name in DEMO_USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = services.user_create(username=username, password=DEMO_PASSWORD, display_name=display_name)
            users[username] = user
        if not Video.objects.filter(creator__in=users.values()).exists():
            for username in users:
                for other in users:
                    if other != username:
                        services.follow_create(follower=users[username], followee=users[other])
            for username, captions in DEMO_VIDEOS.items():
                for caption in captions:
                    services.video_create(creator=users[username], caption=caption)
            first = Video.objects.filter(creator=users["cara"]).order_by("pk").first()
            services.like_create(user=users["ana"], video=first)
            services.comment_create(author=users["ben"], video=first, text="This is gorgeous!")
        if not User.objects.filter(username="admin").exists():
            User.objects.create_superuser("admin", "admin@example.com", DEMO_PASSWORD)
        for username, role in OPERATOR_USERS:
            if not User.objects.filter(username=username).exists():
                operator = User.objects.create_user(username, password=DEMO_PASSWORD, is_staff=True)
                operator.groups.add(Group.objects.get(name=role))
        self.stdout.write(self.style.SUCCESS("Demo users (password for all: %s):" % DEMO_PASSWORD))
        for username, display_name in DEMO_USERS:
            self.stdout.write(f"  {username:<6} {display_name}")
        self.stdout.write("  admin  (staff: Django admin at /admin/)")
        for username, role in OPERATOR_USERS:
            self.stdout.write(f"  {username}  (staff in the {role} group: Django admin with that role)")
