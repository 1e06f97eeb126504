"""The inbox's hot tables without foreign-key constraints or redundant indexes (issue 18).

Django 5.2 cascades in the ORM, never in the database, so a constraint here deleted nothing: it checked each
inserted row against its parent. COPY of 100,000 post rows, per CPU-second of the PostgreSQL backend (the
machine was shared; wall-clock figures were 2-3x noisier):
- lean table (PK + the four read indexes): 164,000-182,000; + the five deferred constraints: 43,000; + the five
  single-column key indexes: 109,000; + the three partial key indexes kept here: 133,000.
- inbox_notification before this migration: 24,000 (41,000 with its unread-count trigger off); after: 44,000
  (135,000 with the trigger off).
- inbox_streamentry, two entries per recipient: 78,000 before, 235,000 after.

Kept: recipient and event are found through the composite indexes that start with them; actor, video and
conversation get partial indexes (``IS NOT NULL``) so that the ORM's cascade ``key IN (...)`` is an index scan
and a NULL key costs no entry. HeldShare (one row per share, not a fan-out) keeps its constraints and loses
only its event index, which ``held_share_once_per_event`` serves.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0009_unread_count_without_trigger"),
        ("platform", "0006_outbox_in_the_social_core"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="heldshare",
            name="event",
            field=models.ForeignKey(
                db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="platform.event"
            ),
        ),
        migrations.AlterField(
            model_name="notification",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="notification",
            name="conversation",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="platform.conversation",
            ),
        ),
        migrations.AlterField(
            model_name="notification",
            name="event",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="notifications",
                to="platform.event",
            ),
        ),
        migrations.AlterField(
            model_name="notification",
            name="recipient",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="notifications",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="notification",
            name="video",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="platform.video",
            ),
        ),
        migrations.AlterField(
            model_name="streamentry",
            name="notification",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="inbox.notification",
            ),
        ),
        migrations.AlterField(
            model_name="streamentry",
            name="recipient",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("actor__isnull", False)), fields=["actor"], name="notification_by_actor"
            ),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("video__isnull", False)), fields=["video"], name="notification_by_video"
            ),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("conversation__isnull", False)),
                fields=["conversation"],
                name="notification_by_conversation",
            ),
        ),
    ]
