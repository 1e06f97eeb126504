"""Operator roles for Django admin: Support looks, Moderator also moderates; neither reads direct messages."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

# Support: browse everything needed to explain a delivery. Conversations, messages and shares (whose
# message and recipients are direct-message content) are left out on purpose.
SUPPORT = [
    ("auth", "view_user"),
    ("platform", "view_profile"),
    ("platform", "view_follow"),
    ("platform", "view_block"),
    ("platform", "view_video"),
    ("platform", "view_videoview"),
    ("platform", "view_profileview"),
    ("platform", "view_like"),
    ("platform", "view_comment"),
    ("inbox", "view_event"),
    ("inbox", "view_eventchunk"),
    ("inbox", "view_notification"),
]
MODERATOR = [
    *SUPPORT,
    ("platform", "change_video"),
    ("platform", "change_comment"),
    ("platform", "add_block"),
    ("platform", "change_block"),
    ("platform", "delete_block"),
]
ROLES = {"Support": SUPPORT, "Moderator": MODERATOR}


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; these groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = [
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
            for app_label, codename in codenames
        ]
        group.permissions.set(permissions)


def delete_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0003_held_share"),
        ("platform", "0002_video_clip"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, delete_roles)]
