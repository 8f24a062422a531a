"""Celery finds reports' tasks here: building a cohort's evidence pack
(reports.evidence.tasks)."""

from reports.evidence import tasks as evidence

__all__ = ["evidence"]
