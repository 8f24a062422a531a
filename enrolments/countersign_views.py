"""The institution's signatory countersigns a cohort's learner agreements in bulk: the page
that lists those waiting for the institution (each with a preview), the form that signs the
chosen ones after the password is entered again, and the progress of the task that signs
them."""

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render

from accounts.http import AuthenticatedRequest
from accounts.permissions import permission_required
from cohorts.models import Cohort
from cohorts.selectors import cohort_for_dashboard
from enrolments.agreements import agreements_countersign_start
from enrolments.models import AgreementCountersigning
from enrolments.selectors import agreements_awaiting_countersign
from signing.http import pdf_in_frame, stored_pdf_response
from signing.models import Submission


class CountersignForm(forms.Form):
    which = forms.ChoiceField(
        choices=[("all", "Every agreement listed"), ("chosen", "Only the ones ticked")],
        initial="all",
        widget=forms.RadioSelect,
        label="Sign",
    )
    agreements = forms.TypedMultipleChoiceField(coerce=int, required=False, label="Agreements")
    signed_name = forms.CharField(
        max_length=200,
        label="Your signature",
        help_text="Type your full name. It is stamped on each agreement as your signature.",
    )
    consent = forms.BooleanField(
        label="I have read the agreements I am signing, and I agree to sign them electronically "
        "for the institution.",
        error_messages={"required": "Tick the box to agree to sign electronically."},
    )
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        label="Your password",
        help_text="Enter your password again: it confirms that it is you who signs.",
    )

    def __init__(self, *args, waiting_ids: list[int], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        agreements = self.fields["agreements"]
        assert isinstance(agreements, forms.TypedMultipleChoiceField)
        agreements.choices = [(pk, str(pk)) for pk in waiting_ids]
        self.waiting_ids = waiting_ids

    def clean(self) -> dict:
        """ "Every agreement listed" means those the signatory was shown (`listed`, one hidden
        input each), never one that came to wait for them since the page was loaded."""
        cleaned = super().clean() or {}
        listed = self.data.getlist("listed") if isinstance(self.data, QueryDict) else []
        self.listed_ids = [int(pk) for pk in listed if pk.isdigit()]
        if cleaned.get("which") == "all" and not set(self.listed_ids).issuperset(self.waiting_ids):
            raise ValidationError(
                "More agreements wait for your signature than the list you read. Read the list "
                "below again, then sign."
            )
        return cleaned

    def chosen_ids(self) -> list[int]:
        if self.cleaned_data["which"] == "all":
            return list(self.listed_ids)
        return list(self.cleaned_data["agreements"])


def _cohort(request: AuthenticatedRequest, pk: int) -> Cohort:
    """The cohort, if the signatory may work in it (a 404 for any other, as its own page)."""
    try:
        return cohort_for_dashboard(user=request.user, pk=pk)
    except Cohort.DoesNotExist as missing:
        raise Http404("No such cohort.") from missing


@permission_required("enrolments.countersign_agreements")
def countersign(request: AuthenticatedRequest, cohort_pk: int) -> HttpResponse:
    cohort = _cohort(request, cohort_pk)
    waiting = list(agreements_awaiting_countersign(cohort=cohort))
    waiting_ids = [enrollment.latest_agreement_id for enrollment in waiting]  # type: ignore[attr-defined]
    form = CountersignForm(
        request.POST or None,
        waiting_ids=waiting_ids,
        initial={"signed_name": request.user.full_name},
    )
    if request.method == "POST" and form.is_valid():
        try:
            run = agreements_countersign_start(
                cohort=cohort,
                actor=request.user,
                submission_ids=form.chosen_ids(),
                signed_name=form.cleaned_data["signed_name"],
                password=form.cleaned_data["password"],
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, problems in error.error_dict.items():
                    form.add_error(field if field in form.fields else None, problems)
            else:
                form.add_error(None, error)
        else:
            return redirect("countersign:progress", cohort_pk=cohort.pk, pk=run.pk)
    running = AgreementCountersigning.objects.filter(
        cohort=cohort, status__in=["queued", "running"]
    ).first()
    return render(
        request,
        "enrolments/countersign.html",
        {"cohort": cohort, "waiting": waiting, "form": form, "running": running},
    )


def _progress_context(run: AgreementCountersigning) -> dict:
    percent = run.percent
    # CSP allows no inline style: the bar's width is one of import.css's 5 % steps.
    return {"run": run, "percent": percent, "width_step": percent // 5 * 5}


@permission_required("enrolments.countersign_agreements")
def countersign_progress(request: AuthenticatedRequest, cohort_pk: int, pk: int) -> HttpResponse:
    """The run's page; htmx polls its progress bar while the task signs. Only the signatory
    who started it sees it."""
    cohort = _cohort(request, cohort_pk)
    run = get_object_or_404(AgreementCountersigning, pk=pk, cohort=cohort, created_by=request.user)
    context = {"cohort": cohort, **_progress_context(run)}
    if request.htmx:
        response = render(request, "enrolments/_countersign_progress.html", context)
        if not run.is_running:
            response["HX-Refresh"] = "true"  # the whole page, with the outcome
        return response
    return render(request, "enrolments/countersign_progress.html", context)


@permission_required("enrolments.countersign_agreements")
@pdf_in_frame
def countersign_preview(request: AuthenticatedRequest, cohort_pk: int, pk: int) -> HttpResponse:
    """One agreement waiting for the institution, as its parties signed it (the PDF as sent)."""
    cohort = _cohort(request, cohort_pk)
    waiting_ids = {
        enrollment.latest_agreement_id  # type: ignore[attr-defined]
        for enrollment in agreements_awaiting_countersign(cohort=cohort)
    }
    if pk not in waiting_ids:
        raise Http404("No such agreement waits for the institution in this cohort.")
    submission = get_object_or_404(Submission, pk=pk)
    return stored_pdf_response(submission.original_pdf, "agreement.pdf")
