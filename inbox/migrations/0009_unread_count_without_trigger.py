"""Unread counts are counted over the partial index inbox_unread (capped at 999, inbox/selectors.py), so the
counter table and the triggers that kept it (0005) go: a fan-out writes one row per recipient, not two.

Reversible: going back recreates the table, its triggers and a backfill, as 0005 did."""

import importlib

from django.db import migrations

# The trigger SQL lives in 0005 only; its module name starts with a digit, so it is imported by name.
unread_count_0005 = importlib.import_module("inbox.migrations.0005_unread_count")


class Migration(migrations.Migration):

    dependencies = [
        ('inbox', '0008_outbox_in_the_social_core'),
    ]

    operations = [
        migrations.RunPython(unread_count_0005.drop_triggers, unread_count_0005.create_triggers),
        migrations.DeleteModel(name='UnreadCount'),
    ]
