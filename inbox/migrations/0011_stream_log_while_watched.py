"""The stream log is written only while a user's inbox is watched (issue 18, inbox/stream_log.py).

Every stream starts unwatched: its next watch starts a new stretch of log, so an id handed out before this
migration is answered as a fresh connection, never as an incomplete replay.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('inbox', '0010_notification_lean_constraints'),
    ]

    operations = [
        migrations.AddField(
            model_name='inboxstream',
            name='present_from_seq',
            field=models.PositiveBigIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name='inboxstream',
            name='present_until',
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
