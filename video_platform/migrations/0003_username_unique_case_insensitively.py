"""Usernames are unique case-insensitively, in the database: a unique index on lower(username) of Django's
auth_user (the model is Django's, so the index is added here). Existing names are stored normalised first."""

from collections import defaultdict

from django.db import migrations

from video_platform.usernames import username_normalise

INDEX = "platform_username_lower_uniq"


def usernames_normalise(apps, schema_editor):
    User = apps.get_model("auth", "User")
    names = dict(User.objects.values_list("pk", "username"))
    by_lower = defaultdict(list)
    for username in names.values():
        by_lower[username.lower()].append(username)
    clashes = sorted(", ".join(group) for group in by_lower.values() if len(group) > 1)
    if clashes:
        raise RuntimeError(f"Usernames that differ only in case: {'; '.join(clashes)}. Rename them, then migrate.")
    owner = {lower: group[0] for lower, group in by_lower.items()}
    for pk, username in names.items():
        normalised = username_normalise(username)
        # A look-alike of another user's name keeps its old spelling: renaming it would take theirs.
        if normalised != username and owner.get(normalised, username) == username:
            User.objects.filter(pk=pk).update(username=normalised)
            owner[normalised] = normalised


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("platform", "0002_video_clip"),
    ]

    operations = [
        migrations.RunPython(usernames_normalise, migrations.RunPython.noop),
        migrations.RunSQL(
            f"CREATE UNIQUE INDEX {INDEX} ON auth_user (lower(username))", f"DROP INDEX {INDEX}"
        ),
    ]
