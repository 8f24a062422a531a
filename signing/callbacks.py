"""What the domain apps give the signing app, registered by each in its AppConfig.ready:

- callbacks by name, which a submission stores as its `on_complete` and `on_decline` and which
  are called as `callback(submission=...)` in the transaction that completes it, and as
  `callback(submission=..., submitter=...)` in the one in which a signer declines;
- per subject type ("cohorts.cohort"), what the signing page shows beside the document;
- per subject type, where a signer signed in to their account goes back to after signing or
  declining, and the message they see there (e.g. the student portal).

A stored name keeps working when the function behind it moves, and signing imports no domain
app. Registering a name twice is a mistake in the code and stops the start-up."""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from signing.models import Submission

# Called with keyword arguments only: submission (and submitter, for a decline).
SigningCallback = Callable[..., None]
# Returns a dict with a `template` and that template's values (as `summary`), or None.
SubjectSummary = Callable[[Submission], dict[str, Any] | None]

# Given the submission and whether the signer signed (else declined): (path, message).
SigningReturn = Callable[[Submission, bool], tuple[str, str]]

_callbacks: dict[str, SigningCallback] = {}
_subject_summaries: dict[str, SubjectSummary] = {}
_returns: dict[str, SigningReturn] = {}


class UnknownCallback(LookupError):
    """No app registered a callback of that name."""


def register(name: str, callback: SigningCallback) -> None:
    """Make `callback` known as `name` (conventionally "<app>.<what happened>")."""
    if not name:
        raise ImproperlyConfigured("A signing callback needs a name.")
    if name in _callbacks:
        raise ImproperlyConfigured(f"A signing callback named {name!r} is already registered.")
    _callbacks[name] = callback


def is_registered(name: str) -> bool:
    return name in _callbacks


def callback_for(name: str) -> SigningCallback:
    """The callback registered as `name`; UnknownCallback if there is none."""
    try:
        return _callbacks[name]
    except KeyError:
        raise UnknownCallback(f"No signing callback is registered as {name!r}.") from None


def register_subject_summary(subject_type: str, summary: SubjectSummary) -> None:
    """Show what `summary` returns beside the documents about a `subject_type` (a model's
    label, e.g. "cohorts.cohort") on the signing page."""
    if subject_type in _subject_summaries:
        raise ImproperlyConfigured(
            f"A signing page summary for {subject_type!r} is already registered."
        )
    _subject_summaries[subject_type] = summary


def subject_summary_for(subject_type: str) -> SubjectSummary | None:
    return _subject_summaries.get(subject_type)


def register_return(subject_type: str, signing_return: SigningReturn) -> None:
    """After signing or declining a document about a `subject_type`, send the signer, when
    signed in to their own account here, to the path `signing_return` gives, with its
    message, instead of the page that says they may close it."""
    if subject_type in _returns:
        raise ImproperlyConfigured(f"A signing return for {subject_type!r} is already registered.")
    _returns[subject_type] = signing_return


def return_for(subject_type: str) -> SigningReturn | None:
    return _returns.get(subject_type)
