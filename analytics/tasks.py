"""Thin Celery tasks of Pro analytics."""

from celery import shared_task

from . import services


@shared_task(name="analytics.rollup_recent_days")
def rollup_recent_days() -> dict:
    """Beat: fold the days since the last settled one (today included), then prune expired raw views."""
    folded = services.rollup_incremental()
    pruned = services.raw_views_prune()
    return {"folded": [str(fold.date) for fold in folded], "pruned": [str(prune.date) for prune in pruned]}
