"""The open-group key indexes only rows that have one (issue 18).

A post's fan-out writes a row per follower, none of them grouped: each paid an entry with a NULL key in this
unique index, which NULLs never conflict in. The group upsert names the predicate (inbox/notifications.py), so
it still infers this index.
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('inbox', '0011_stream_log_while_watched'),
        ('platform', '0006_outbox_in_the_social_core'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='notification',
            name='notification_open_group',
        ),
        migrations.AddConstraint(
            model_name='notification',
            constraint=models.UniqueConstraint(condition=models.Q(('group_key__isnull', False)), fields=('recipient', 'group_key'), name='notification_open_group'),
        ),
    ]
