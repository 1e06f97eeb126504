"""The inbox tables keep no database foreign-key constraints (migration 0010): every way the product deletes a
user, a video, a conversation or an event must still leave no inbox row pointing at a row that is gone, and
find the rows to delete through an index."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.db.models import ForeignKey
from django.test import Client
from django.urls import reverse

from inbox import deletions, stream_log
from inbox.deletions import notifications_of_deleted_delete
from inbox.models import HeldShare, Notification, StreamEntry
from qa.scenarios.runner import run_email, run_users_delete
from qa.simulation import Simulation, username_prefix
from video_platform import services
from video_platform.models import Conversation, Event, Video

from .factories import UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()
INBOX_MODELS = (Notification, StreamEntry, HeldShare)


def dangling() -> list[tuple[str, str, int]]:
    """(table, key, row id) of every inbox row whose key names a row that does not exist."""
    found = []
    for model in INBOX_MODELS:
        for field in model._meta.concrete_fields:
            if isinstance(field, ForeignKey):
                parents = field.related_model._base_manager.values("pk")
                rows = model.objects.exclude(**{f"{field.name}__isnull": True})
                orphans = rows.exclude(**{f"{field.name}__in": parents}).values_list("pk", flat=True)
                found += [(model._meta.db_table, field.column, pk) for pk in orphans]
    return found


def build_inbox(deliver, *, email: str = "", prefix: str = "") -> dict:
    """An inbox row through each key: a follow, a post, a like group, a comment, an anonymous share group, a
    tag and a DM share (which opens a chat)."""

    def person(name: str):
        user = UserFactory.create(username=f"{prefix}{name}", email=email.format(name.lower()) if email else "")
        stream_log.stream_watched(user_id=user.pk)  # a watched inbox: its stream log is written too
        return user

    creator, fan, sharer, friend = person("cara"), person("finn"), person("sam"), person("rae")
    services.follow_create(follower=fan, followee=creator)
    video = services.video_create(creator=creator, caption="first light")
    services.like_create(user=fan, video=video)
    services.comment_create(author=fan, video=video, text="lovely")
    services.video_share(sharer=sharer, video=video, channel="dm", recipients=[friend], message="look")
    services.video_share(sharer=sharer, video=video, channel="tag", tagged=[friend])
    deliver()
    conversation = Conversation.objects.get(participants=friend)
    world = {"creator": creator, "fan": fan, "sharer": sharer, "friend": friend, "video": video}
    world["conversation"] = conversation
    assert Notification.objects.filter(actor__isnull=False, video__isnull=False, event__isnull=False).exists()
    assert Notification.objects.filter(conversation=conversation).exists()
    assert StreamEntry.objects.filter(notification__isnull=False).exists()
    assert dangling() == []
    return world


def test_deleting_a_recipient_deletes_their_inbox_and_stream(deliver):
    world = build_inbox(deliver)
    creator = world["creator"]
    creator_id = creator.pk
    creator.delete()
    assert not Notification.objects.filter(recipient_id=creator_id).exists()
    assert not StreamEntry.objects.filter(recipient_id=creator_id).exists()
    assert dangling() == []


def test_deleting_an_actor_deletes_the_notifications_that_name_them(deliver):
    world = build_inbox(deliver)
    fan, sharer = world["fan"], world["sharer"]
    ids = (fan.pk, sharer.pk)
    fan.delete()
    sharer.delete()
    assert not Notification.objects.filter(actor_id__in=ids).exists()
    assert dangling() == []


def test_deleting_a_video_deletes_the_notifications_about_it(deliver):
    world = build_inbox(deliver)
    video_id = world["video"].pk
    world["video"].delete()
    assert not Notification.objects.filter(video_id=video_id).exists()
    assert dangling() == []


def test_deleting_a_conversation_deletes_its_message_notifications(deliver):
    world = build_inbox(deliver)
    conversation_id = world["conversation"].pk
    world["conversation"].delete()
    assert not Notification.objects.filter(conversation_id=conversation_id).exists()
    assert Notification.objects.filter(recipient=world["friend"], type="tag").exists()
    assert dangling() == []


def test_deleting_an_event_keeps_its_notifications_without_it(deliver):
    world = build_inbox(deliver)
    events = Event.objects.filter(actor=world["fan"])
    notified = set(Notification.objects.filter(event__in=events).values_list("pk", flat=True))
    assert notified
    events.delete()
    assert set(Notification.objects.filter(pk__in=notified, event=None).values_list("pk", flat=True)) == notified
    assert dangling() == []


def test_a_posts_rows_go_with_the_posts_event(deliver):
    world = build_inbox(deliver)
    post = Event.objects.get(kind="post", actor=world["creator"])
    assert Notification.objects.filter(event=post, type="post").exists()
    others = set(Notification.objects.exclude(event=post).values_list("pk", flat=True))
    post.delete()
    assert not Notification.objects.filter(type="post").exists()
    assert set(Notification.objects.values_list("pk", flat=True)) == others
    assert dangling() == []


def test_a_post_row_a_chunk_commits_after_its_event_is_deleted_is_swept_later(deliver):
    world = build_inbox(deliver)
    post = Event.objects.get(kind="post", actor=world["creator"])
    late = Notification.objects.filter(event=post).values().first() | {"id": None, "recipient_id": world["sharer"].pk}
    post_id = post.pk
    post.delete()
    Notification.objects.create(**late)
    assert dangling() != []
    assert notifications_of_deleted_delete(kind="post", ids=[post_id]) == 1
    assert dangling() == []


def test_a_held_share_goes_with_its_event_and_its_recipient(deliver, settings):
    settings.SHARE_NOTIFICATION_BATCH_SECONDS = 600
    world = build_inbox(deliver)
    services.video_share(sharer=world["sharer"], video=world["video"], channel="link")
    deliver()
    assert HeldShare.objects.filter(recipient=world["creator"]).exists()
    world["sharer"].delete()  # the share's event goes with its actor, the held row with its event
    assert not HeldShare.objects.exists()
    assert dangling() == []


def test_the_check_sees_a_row_whose_video_is_gone(deliver):
    """Nothing in the database refuses such a row now: a fan-out that commits after its video's delete collected
    the rows to delete would leave one. The check finds it."""
    world = build_inbox(deliver)
    row = Notification.objects.filter(video=world["video"]).first()
    missing = Video.objects.order_by("-pk").values_list("pk", flat=True).first() + 1
    Notification.objects.filter(pk=row.pk).update(video_id=missing)
    assert dangling() == [(Notification._meta.db_table, "video_id", row.pk)]


@pytest.mark.parametrize(
    ("kind", "key", "target"),
    [("video", "video_id", "video"), ("user", "actor_id", "fan"), ("user", "recipient_id", "creator")],
)
def test_a_row_a_fan_out_commits_after_the_delete_is_swept_later(deliver, kind, key, target):
    """The race the lost constraints leave open: the ORM collected the rows to delete, then a fan-out committed
    one more naming the deleted row. The sweep the delete scheduled removes it."""
    world = build_inbox(deliver)
    deleted_id = world[target].pk
    others = Notification.objects.all()
    for column in deletions.KEYS[kind]:
        others = others.exclude(**{column: deleted_id})
    late = others.values().first() | {"id": None, key: deleted_id, "event_id": None, "group_key": None}
    world[target].delete()
    Notification.objects.create(**late)
    assert dangling() != []
    assert notifications_of_deleted_delete(kind=kind, ids=[deleted_id]) >= 1
    assert dangling() == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("model", ["user", "video", "conversation", "post"])
def test_deleting_a_user_video_chat_or_post_schedules_the_late_sweep(model, monkeypatch):
    sent = []

    def send(task, *args, **options):
        sent.append((task.name, args, options))

    monkeypatch.setattr(deletions.dispatch, "task_send", send)
    cara, ben = UserFactory.create(), UserFactory.create()
    target = {
        "user": ben,
        "video": Video.objects.create(creator=cara, caption="gone soon"),
        "conversation": services.conversation_get_or_create(creator=cara, participants=[ben])[0],
        "post": services.video_create(creator=cara, caption="posted").event,
    }[model]
    target_id = target.pk
    target.delete()
    assert (
        "inbox.delete_notifications_of_deleted",
        (model, [target_id]),
        {"countdown": deletions.SWEEP_AFTER_SECONDS},
    ) in sent


@pytest.mark.parametrize("target", ["creator", "fan", "video", "conversation", "event"])
def test_admin_bulk_delete_leaves_no_dangling_inbox_row(deliver, target):
    world = build_inbox(deliver)
    if target == "event":
        model, pks = Event, list(Event.objects.values_list("pk", flat=True))
    else:
        model, pks = type(world[target]), [world[target].pk]
    admin = Client()
    admin.force_login(UserFactory.create(username="root", is_staff=True, is_superuser=True))
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    response = admin.post(url, {"action": "delete_selected", "_selected_action": pks, "post": "yes"})
    assert response.status_code == 302
    assert not model._base_manager.filter(pk__in=pks).exists()
    assert dangling() == []


def test_seed_reset_leaves_no_dangling_inbox_row(deliver):
    build_inbox(deliver)
    call_command("seed", stdout=StringIO())  # the demo world delivers its own events
    call_command("seed", "--reset", stdout=StringIO())
    assert Notification.objects.exists()
    assert dangling() == []


def test_scenario_cleanup_leaves_no_dangling_inbox_row(deliver):
    build_inbox(deliver, email=run_email("{}", "abc123"))
    assert run_users_delete("abc123") == 4
    assert not Notification.objects.exists()
    assert dangling() == []


def test_simulation_reset_leaves_no_dangling_inbox_row(deliver):
    build_inbox(deliver, prefix=username_prefix(7))
    assert Simulation(users=3, seed=7, wait_for_delivery=deliver).reset() > 0
    assert not Notification.objects.exists()
    assert not Conversation.objects.exists()
    assert dangling() == []


class HandedOver:
    """Stands in for Django's deletion collector: keeps the rows an ``on_delete`` handler gives it to delete or
    update, which is what the delete then runs."""

    def __init__(self):
        self.rows = []

    def collect(self, objs, **kwargs):
        self.rows.append(objs)

    def add_field_update(self, field, value, objs):
        self.rows.append(objs)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's plans")
@pytest.mark.parametrize(
    ("model", "field_name"),
    [
        (Notification, "recipient"),
        (Notification, "actor"),
        (Notification, "video"),
        (Notification, "conversation"),
        (Notification, "event"),
        (StreamEntry, "recipient"),
        (StreamEntry, "notification"),
        (HeldShare, "recipient"),
        (HeldShare, "event"),
    ],
)
def test_a_delete_finds_the_rows_of_a_key_through_an_index(model, field_name):
    """What the ORM runs for a cascade can use an index: deleting one user, video, chat or event never reads the
    whole table, however large (a post's rows are found through their event, not their actor or video)."""
    field = model._meta.get_field(field_name)
    handed_over = HandedOver()
    keyed = model._base_manager.filter(**{f"{field_name}__in": [1, 2, 3]})
    field.remote_field.on_delete(handed_over, field, keyed, "default")
    assert handed_over.rows
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan TO off")  # an empty table would be scanned anyway
        for rows in handed_over.rows:
            sql, params = rows.values("pk").query.sql_with_params()
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert f"Seq Scan on {table}" not in plan, (sql, plan)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's plans")
@pytest.mark.parametrize(("kind", "key"), [(kind, key) for kind, keys in deletions.KEYS.items() for key in keys])
def test_the_late_sweep_finds_its_rows_through_an_index(kind, key):
    rows = deletions.rows_named(key, [1, 2, 3])
    sql, params = rows.values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan TO off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan on inbox_notification" not in plan, (sql, plan)


@pytest.mark.parametrize("model", INBOX_MODELS)
def test_no_index_repeats_the_leading_columns_of_another(model):
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, model._meta.db_table)
    ways_in = {name: c["columns"] for name, c in found.items() if c["index"] or c["unique"] or c["primary_key"]}
    # A unique index is a rule as well as a way in; any other is redundant if another one starts with its columns.
    plain = [name for name, c in found.items() if c["index"] and not c["unique"] and not c["primary_key"]]
    for name in plain:
        columns = ways_in[name]
        served_by = [other for other, longer in ways_in.items() if other != name and longer[: len(columns)] == columns]
        assert not served_by, f"{name} {columns} is served by {served_by}"
