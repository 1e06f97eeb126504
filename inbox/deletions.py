"""Inbox rows about a user, video, chat or post that was deleted while a fan-out was writing.

The inbox tables keep no database foreign-key constraints (migration 0010): the ORM's cascade deletes the rows
committed before the delete, but a fan-out that commits while the delete runs can still add a row naming the
deleted user, video or chat. So each such delete is followed, once any fan-out of that moment has finished,
by the same delete again, through the same indexes.
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.signals import post_delete

from video_platform.actions import ActionKind
from video_platform.models import Conversation, Event, Video

from . import dispatch
from .models import POST, Notification, StreamEntry

# Longer than any fan-out transaction (a chunk of POST_FAN_OUT_CHUNK_SIZE rows) runs.
SWEEP_AFTER_SECONDS = 60
# The keys of a notification that name a user, a video, a chat or a post's event, by the model deleted. A post's
# rows are in neither the actor nor the video index (inbox.models): they are found through their event.
KEYS = {
    "user": ("recipient_id", "actor_id"),
    "video": ("video_id",),
    "conversation": ("conversation_id",),
    "post": ("event_id",),
}


def rows_named(key: str, ids: list[int]) -> QuerySet:
    """The rows whose ``key`` names one of ``ids``, as the model's ``on_delete`` handlers find them: a post's
    rows through their event only (inbox.models.POST), every other row through its actor or video."""
    rows = Notification.objects.filter(**{f"{key}__in": ids})
    if key in ("actor_id", "video_id"):
        return rows.exclude(POST)
    return rows.filter(POST) if key == "event_id" else rows


@transaction.atomic
def notifications_of_deleted_delete(*, kind: str, ids: list[int]) -> int:
    """Delete the inbox rows (and their stream entries) whose ``kind`` key names one of ``ids``."""
    deleted = 0
    for key in KEYS[kind]:
        rows = rows_named(key, ids)
        StreamEntry.objects.filter(notification__in=rows).delete()
        if key == "recipient_id":
            StreamEntry.objects.filter(recipient_id__in=ids).delete()
        deleted += rows.delete()[0]
    return deleted


def _sweep_later(kind: str):
    def receiver(sender, instance, **kwargs):
        from .tasks import delete_notifications_of_deleted

        ids = [instance.pk]
        transaction.on_commit(
            lambda: dispatch.task_send(delete_notifications_of_deleted, kind, ids, countdown=SWEEP_AFTER_SECONDS)
        )

    return receiver


def _post_sweep_later(sender, instance, **kwargs):
    """Of the events, only a post's names rows that go with it."""
    if instance.kind == ActionKind.POST:
        _post_sweep(sender, instance, **kwargs)


_post_sweep = _sweep_later("post")


def connect() -> None:
    """Called once from the inbox's AppConfig.ready."""
    for kind, model in (("user", get_user_model()), ("video", Video), ("conversation", Conversation)):
        post_delete.connect(_sweep_later(kind), sender=model, weak=False, dispatch_uid=f"inbox_sweep_{kind}")
    post_delete.connect(_post_sweep_later, sender=Event, weak=False, dispatch_uid="inbox_sweep_post")
