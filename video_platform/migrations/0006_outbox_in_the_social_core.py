"""The outbox (Event) moves from the inbox to the social core, which writes it; its table keeps its name.

State only for the table (no data moves). Stored payloads are upgraded to the typed action's version 1 shape
(video_platform.actions.RecordedAction), and the admin permissions follow the model to the "platform" label.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def payloads_to_version_1(apps, schema_editor):
    """Older payloads lacked the version and the creator, and a text message kept one conversation id."""
    Event = apps.get_model("platform", "Event")
    Video = apps.get_model("platform", "Video")
    old = Event.objects.exclude(payload__has_key="version").order_by("pk")
    while batch := list(old[:1000]):
        creators = dict(Video.objects.filter(pk__in={e.video_id for e in batch}).values_list("pk", "creator_id"))
        for event in batch:
            payload = event.payload
            if event.video_id:
                payload["creator"] = creators.get(event.video_id)
            if "conversation_id" in payload:
                chat = payload.pop("conversation_id")
                payload["conversations"] = {str(user_id): chat for user_id in payload.get("recipients", ())}
            payload["version"] = 1
        Event.objects.bulk_update(batch, ["payload"])


def _move_content_type(apps, *, source: str, target: str):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label=source, model="event").update(app_label=target)


def content_type_to_platform(apps, schema_editor):
    _move_content_type(apps, source="inbox", target="platform")


def content_type_to_inbox(apps, schema_editor):
    _move_content_type(apps, source="platform", target="inbox")


class Migration(migrations.Migration):

    dependencies = [
        ('platform', '0005_share_released_at'),
        ('inbox', '0007_merge_0006_event_held_status_0006_share_batch_window'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.CreateModel(
            name='Event',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('share', 'share'), ('message', 'message'), ('follow', 'follow'), ('like', 'like'), ('comment', 'comment'), ('post', 'post')], max_length=10)),
                ('payload', models.JSONField(blank=True, default=dict)),
                ('status', models.CharField(choices=[('pending', 'Pending'), ('held', 'Held'), ('done', 'Done'), ('failed', 'Failed')], default='pending', max_length=7)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('dispatched_at', models.DateTimeField(auto_now_add=True)),
                ('done_at', models.DateTimeField(blank=True, null=True)),
                ('release_at', models.DateTimeField(blank=True, null=True)),
                ('attempts', models.PositiveIntegerField(default=1)),
                ('notification_count', models.PositiveIntegerField(default=0)),
                ('chunk_bounds', models.JSONField(blank=True, null=True)),
                ('chunks_done', models.PositiveIntegerField(default=0)),
                ('error', models.TextField(blank=True)),
                ('actor', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='events', to=settings.AUTH_USER_MODEL)),
                ('video', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='platform.video')),
            ],
            options={
                'db_table': 'inbox_event',
                'indexes': [models.Index(condition=models.Q(('status', 'pending')), fields=['dispatched_at'], name='event_pending')],
            },
        )]),
        migrations.RunPython(payloads_to_version_1, migrations.RunPython.noop),
        migrations.RunPython(content_type_to_platform, content_type_to_inbox),
    ]
