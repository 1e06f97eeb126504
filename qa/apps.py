from django.apps import AppConfig


class QaConfig(AppConfig):
    """QA tooling above the apps: the scenario runner, simulate, delivery waits and the QA endpoints."""

    name = "qa"
