"""Idempotent demo data: named users with known passwords, follows, videos and some activity.

Every piece is looked up before it is made, so running it again changes nothing (and restores the demo
passwords); ``--reset`` deletes the users first, which takes everything they did with them.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from rest_framework.authtoken.models import Token

from video_platform import services
from video_platform.models import Comment, Conversation, Message, Share, ShareChannel, Video

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
DEMO_VIDEOS = {
    "cara": ["Sunrise timelapse over the bay", "Three-minute ramen hack"],
    "ana": ["Skateboard kickflip, slow motion"],
    "ben": ["My cat vs. the cucumber"],
}
# (sharer, creator, caption, channel, tagged/recipients): one share on every channel.
DEMO_SHARES = [
    ("ben", "cara", "Sunrise timelapse over the bay", ShareChannel.LINK, []),
    ("dev", "cara", "Three-minute ramen hack", ShareChannel.TAG, ["ana"]),
    ("eli", "ana", "Skateboard kickflip, slow motion", ShareChannel.DM, ["ben"]),
]
DEMO_COMMENTS = [("ben", "cara", "Sunrise timelapse over the bay", "This is gorgeous! @ana look")]
DEMO_LIKES = [("ana", "cara", "Sunrise timelapse over the bay"), ("dev", "cara", "Sunrise timelapse over the bay")]
DEMO_MESSAGES = [("eli", "cara", "Loved your ramen hack!")]


class Command(BaseCommand):
    help = f"Create the demo users (password '{DEMO_PASSWORD}'), follows, videos and some activity. Safe to re-run."

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
            users = self._users()
            self._activity(users)
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

    def _users(self) -> dict:
        users = {}
        for username, display_name in DEMO_USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = services.user_create(username=username, password=DEMO_PASSWORD, display_name=display_name)
            elif not user.check_password(DEMO_PASSWORD):
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            services.profile_update(user=user, display_name=display_name, is_pro=username in PRO_USERS)
            users[username] = user
        return users

    def _activity(self, users: dict) -> None:
        for follower in users.values():
            for followee in users.values():
                if follower != followee:
                    services.follow_create(follower=follower, followee=followee)
        videos = {}
        for username, captions in DEMO_VIDEOS.items():
            for caption in captions:
                video = Video.objects.filter(creator=users[username], caption=caption).first()
                videos[username, caption] = video or services.video_create(creator=users[username], caption=caption)
        for liker, creator, caption in DEMO_LIKES:
            services.like_create(user=users[liker], video=videos[creator, caption])
        for author, creator, caption, text in DEMO_COMMENTS:
            video = videos[creator, caption]
            if not Comment.objects.filter(author=users[author], video=video, text=text).exists():
                services.comment_create(author=users[author], video=video, text=text)
        for sharer, creator, caption, channel, others in DEMO_SHARES:
            video = videos[creator, caption]
            if not Share.objects.filter(sharer=users[sharer], video=video, channel=channel).exists():
                people = [users[name] for name in others]
                services.video_share(
                    sharer=users[sharer],
                    video=video,
                    channel=channel,
                    tagged=people if channel == ShareChannel.TAG else (),
                    recipients=people if channel == ShareChannel.DM else (),
                )
        for sender, recipient, text in DEMO_MESSAGES:
            conversation, _ = services.conversation_get_or_create(
                creator=users[sender], participants=[users[recipient]]
            )
            if not Message.objects.filter(conversation=conversation, sender=users[sender], text=text).exists():
                services.message_send(sender=users[sender], conversation=conversation, text=text)

    def _print_logins(self, users: list) -> None:
        self.stdout.write(self.style.SUCCESS(f"Demo users (password for all: {DEMO_PASSWORD}):"))
        self.stdout.write(f"  {'username':<9} {'display name':<18} {'password':<16} API token")
        for user in users:
            token, _ = Token.objects.get_or_create(user=user)
            name = user.profile.display_name
            if user.is_staff:
                role = user.groups.values_list("name", flat=True).first()
                name = f"staff ({role}): /admin/" if role else "staff: /admin/"
            if user.profile.is_pro:
                name += " (Pro)"
            self.stdout.write(f"  {user.username:<9} {name:<18} {DEMO_PASSWORD:<16} {token.key}")
