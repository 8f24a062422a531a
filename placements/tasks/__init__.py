"""Celery finds placements' tasks here: looking addresses up (placements.tasks.geocoding) and
expiring vetting (placements.tasks.vetting)."""

from placements.tasks import geocoding, vetting

__all__ = ["geocoding", "vetting"]
