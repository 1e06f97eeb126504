from django.apps import AppConfig


class PlatformConfig(AppConfig):
    # The package cannot be called ``platform`` (it would shadow the standard library module), so only
    # the label carries the requested name: tables ``platform_*``, admin section "Platform".
    name = "video_platform"
    label = "platform"
    verbose_name = "Platform"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import signals  # noqa: F401
