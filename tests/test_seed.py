from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from inbox.models import Event
from video_platform.models import Follow, Share, Video

pytestmark = pytest.mark.django_db

User = get_user_model()


def _state() -> dict:
    return {
        "users": sorted(User.objects.values_list("username", flat=True)),
        "follows": Follow.objects.count(),
        "videos": Video.objects.count(),
        "shares": sorted(Share.objects.values_list("channel", flat=True)),
        "events": Event.objects.count(),
    }


def test_seed_twice_changes_nothing_the_second_time():
    call_command("seed", stdout=StringIO())
    first = _state()
    call_command("seed", stdout=StringIO())
    assert _state() == first
    assert first["shares"] == ["dm", "link", "tag"]


def test_seed_restores_the_demo_password_and_prints_it(capsys):
    call_command("seed", stdout=StringIO())
    ana = User.objects.get(username="ana")
    ana.set_password("something-else-entirely")
    ana.save()
    call_command("seed")
    assert User.objects.get(username="ana").check_password("shareloop-demo")
    out = capsys.readouterr().out
    assert "ana" in out and "shareloop-demo" in out


def test_seed_reset_wipes_other_users_and_their_actions():
    call_command("seed", stdout=StringIO())
    seeded = _state()
    stranger = User.objects.create_user("stranger", password="x-long-password-1")
    Video.objects.create(creator=stranger, caption="not demo data")
    call_command("seed", "--reset", stdout=StringIO())
    assert _state() == seeded
