"""Celery finds workplace learning's tasks here: scanning evidence (workplace.tasks.evidence)
and warning about expiring registrations (workplace.tasks.practitioners)."""

from workplace.tasks import evidence, practitioners

__all__ = ["evidence", "practitioners"]
