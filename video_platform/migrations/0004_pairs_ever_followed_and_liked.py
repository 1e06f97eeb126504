"""Pairs that ever followed / ever liked, so a repeated follow or like notifies nobody (issue 14, item 12).

Filled from today's follows and likes, and from the like events of the past (the record likes used before).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def record_past_pairs(apps, schema_editor):
    Follow, FollowedPair = apps.get_model("platform", "Follow"), apps.get_model("platform", "FollowedPair")
    Like, LikedPair = apps.get_model("platform", "Like"), apps.get_model("platform", "LikedPair")
    Event = apps.get_model("inbox", "Event")
    followed = Follow.objects.values_list("follower_id", "followee_id")
    FollowedPair.objects.bulk_create(
        (FollowedPair(follower_id=follower_id, followee_id=followee_id) for follower_id, followee_id in followed),
        ignore_conflicts=True,
        batch_size=5000,
    )
    liked = set(Like.objects.values_list("user_id", "video_id"))
    liked |= set(Event.objects.filter(kind="like", video__isnull=False).values_list("actor_id", "video_id"))
    LikedPair.objects.bulk_create(
        (LikedPair(user_id=user_id, video_id=video_id) for user_id, video_id in liked),
        ignore_conflicts=True,
        batch_size=5000,
    )


class Migration(migrations.Migration):

    dependencies = [
        ('platform', '0003_username_unique_case_insensitively'),
        ('inbox', '0005_unread_count'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='FollowedPair',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('followee', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('follower', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('follower', 'followee'), name='followed_pair_once')],
            },
        ),
        migrations.CreateModel(
            name='LikedPair',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('video', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='platform.video')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('video', 'user'), name='liked_pair_once')],
            },
        ),
        migrations.RunPython(record_past_pairs, migrations.RunPython.noop),
    ]
