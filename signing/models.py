from django.conf import settings
from django.db import models


class AgreementTemplate(models.Model):
    """An agreement an institution has people sign: the main agreement of a cohort, a
    student's agreement, a sponsor's. Knows nothing about cohorts."""

    title = models.CharField(max_length=200)
    body = models.TextField(help_text="The agreement's text, as people will read it.")
    is_archived = models.BooleanField(
        default=False, help_text="Archived templates cannot be picked for new cohorts."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title
