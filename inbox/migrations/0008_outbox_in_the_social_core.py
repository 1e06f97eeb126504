"""The outbox (Event) now belongs to the social core (platform 0006); the table stays where it is."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('inbox', '0007_merge_0006_event_held_status_0006_share_batch_window'),
        ('platform', '0006_outbox_in_the_social_core'),
    ]

    operations = [migrations.SeparateDatabaseAndState(state_operations=[
        migrations.AlterField(
            model_name='heldshare',
            name='event',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='platform.event'),
        ),
        migrations.AlterField(
            model_name='notification',
            name='event',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='notifications', to='platform.event'),
        ),
        migrations.AlterField(
            model_name='eventchunk',
            name='event',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='chunks', to='platform.event'),
        ),
        migrations.DeleteModel(
            name='Event',
        ),
    ])]
