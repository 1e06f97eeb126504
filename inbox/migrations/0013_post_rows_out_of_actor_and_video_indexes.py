"""A post's rows leave the actor and video indexes and go with the post's event (issue 18).

Every row of a post has the same actor and video; two chunks inserting them at once contended on these two
indexes, and ran no faster than one (bench/README.md). Deleting a video or its creator deletes the post's event,
and the event's rows with it. A post row whose event was already deleted (by staff, before this) would now be
found by nothing: those are deleted here.
"""

from django.conf import settings
from django.db import migrations, models

import inbox.models


def post_rows_without_event_delete(apps, schema_editor):
    apps.get_model("inbox", "Notification").objects.filter(type="post", event__isnull=True).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('inbox', '0012_open_group_key_index_partial'),
        ('platform', '0006_outbox_in_the_social_core'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(post_rows_without_event_delete, migrations.RunPython.noop),
        migrations.RemoveIndex(
            model_name='notification',
            name='notification_by_actor',
        ),
        migrations.RemoveIndex(
            model_name='notification',
            name='notification_by_video',
        ),
        migrations.AlterField(
            model_name='notification',
            name='actor',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=inbox.models.cascade_except_post_rows, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='notification',
            name='event',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=inbox.models.cascade_post_rows_else_set_null, related_name='notifications', to='platform.event'),
        ),
        migrations.AlterField(
            model_name='notification',
            name='video',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=inbox.models.cascade_except_post_rows, related_name='+', to='platform.video'),
        ),
        migrations.AddIndex(
            model_name='notification',
            index=models.Index(condition=models.Q(('actor__isnull', False), models.Q(('type', 'post'), _negated=True)), fields=['actor'], name='notification_by_actor'),
        ),
        migrations.AddIndex(
            model_name='notification',
            index=models.Index(condition=models.Q(('video__isnull', False), models.Q(('type', 'post'), _negated=True)), fields=['video'], name='notification_by_video'),
        ),
    ]
