"""How a page shows a service's refusal: each message next to the field it names, the rest
above the form. One for every page of every app that runs a service from a form."""

from django.core.exceptions import ValidationError
from django.forms import BaseForm


def refusal_show(form: BaseForm, error: ValidationError) -> None:
    """Add `error`'s messages to `form`: a field's own under it (when the form has that field),
    any other at the top."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)
