from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "inbox"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from video_platform.outbox import event_committed

        from . import deletions
        from .dispatch import event_dispatch

        # The social core's outbox names no consumer: the inbox subscribes to it here.
        event_committed.connect(event_dispatch, dispatch_uid="inbox_fan_out")
        deletions.connect()
