from django.conf import settings
from django.http import HttpRequest

from accounts.models import normalise_email


def axes_username(request: HttpRequest, credentials: dict | None = None) -> str:
    """The e-mail that brute-force counting keys on, normalised so that changing its case
    does not reset the count."""
    source = credentials if credentials else request.POST
    return normalise_email(source.get(settings.AXES_USERNAME_FORM_FIELD) or "")
