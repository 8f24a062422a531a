"""Celery finds finance's tasks here: an issued document's PDF, sealed and e-mailed
(finance.tasks.invoices), and the daily grant claims brought up to date in every institution
(finance.tasks.grants)."""

from finance.tasks import grants, invoices

__all__ = ["grants", "invoices"]
