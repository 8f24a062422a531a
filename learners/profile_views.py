"""The student's own profile in the portal (/profile/): their details, which they change
themselves (a change to what their verified ID document vouches for sends it back to review),
and their consents, which they give and withdraw here. Every write goes through
learners.services; a signed-in person without a learner record has no profile (404)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedRequest
from learners.consents import WORDINGS
from learners.forms import LearnerDetailsForm
from learners.models import ConsentMethod, Learner
from learners.selectors import learner_consent_rows, learner_of_user
from learners.services import consent_record, learner_profile_save

REOPENED_NOTICE = (
    "You changed your ID or passport number, date of birth or gender, which your verified ID "
    "document vouches for: the document goes back to the institution for review, and your "
    "enrolment shows it as waiting for review until they have checked it again (one verified "
    "for a cohort that has ended is asked for again: upload it once more)."
)


def _learner(request: AuthenticatedRequest) -> Learner:
    learner = learner_of_user(request.user)
    if learner is None:
        raise Http404("You have no learner profile here.")
    return learner


@login_required
@never_cache
def profile(request: AuthenticatedRequest) -> HttpResponse:
    learner = _learner(request)
    form = LearnerDetailsForm(request.POST or None, learner=learner, name_holder=False)
    if request.method == "POST" and form.is_valid():
        try:
            saved = learner_profile_save(
                learner=learner, actor=request.user, details=form.details()
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Your details are saved.")
            if saved.documents_reopened:
                messages.warning(request, REOPENED_NOTICE)
            return redirect("profile:profile")
    return render(
        request,
        "learners/profile.html",
        {
            "learner": learner,
            "form": form,
            "consents": learner_consent_rows(learner),
        },
    )


def _next(request: AuthenticatedRequest) -> str:
    """Where to go back to: a page of this site the form named, or the profile (its top,
    where the message about the answer shows)."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("profile:profile")


@login_required
@require_POST
def consents(request: AuthenticatedRequest) -> HttpResponse:
    """Give the consents ticked (`give`, one or several), or withdraw one (`withdraw`)."""
    learner = _learner(request)
    withdraw = request.POST.get("withdraw", "")
    if withdraw:
        answers = [(withdraw, False)]
    else:
        answers = [(kind, True) for kind in request.POST.getlist("give")]
    if not answers or any(kind not in WORDINGS for kind, _given in answers):
        messages.error(request, "Tick the consents you give, then press the button.")
        return redirect(_next(request))
    for kind, given in answers:
        consent_record(
            learner=learner, kind=kind, given=given, method=ConsentMethod.PORTAL, actor=request.user
        )
    if withdraw:
        messages.info(
            request,
            f"You withdrew your consent to “{WORDINGS[withdraw].title.lower()}”. "
            f"{WORDINGS[withdraw].withdrawal}",
        )
    else:
        messages.success(
            request,
            "Thank you: your consent is recorded."
            if len(answers) == 1
            else "Thank you: your consents are recorded.",
        )
    return redirect(_next(request))
