"""The results pages: the runs a person records or moderates, a run's gradebook, a learner's
results in a run (history and voids), moderation, a cohort's programme outcomes and a learner's
own results. Run pages ask delivery.access: anyone else gets the audited 404."""

from collections.abc import Callable
from typing import TypeVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_check
from cohorts.models import Cohort
from delivery.access import may_moderate, may_teach, open_check
from delivery.forms.results import (
    NEW,
    CohortOutcomesForm,
    ModeratorForm,
    OutcomeForm,
    VoidForm,
    cells_seen,
    gradebook_cells,
    posted_values,
)
from delivery.models import Assessment, CourseEnrollment, CourseEnrollmentStatus, CourseRun
from delivery.selectors.outcomes import learner_standings
from delivery.selectors.results import (
    course_enrolment_in_run,
    gradebook_for,
    learner_results,
    results_runs_for,
    results_with_history,
)
from delivery.services.assessments import (
    ModeratedVoid,
    assessment_void,
    gradebook_save,
    may_void_moderated,
    moderated_result_void,
)
from delivery.services.moderation import (
    moderator_candidates,
    run_moderator_assign,
    run_results_sign_off,
)
from delivery.services.outcomes import RECORD, cohort_outcomes_record, programme_outcome_record
from enrolments.models import CohortEnrollment
from integrations.selectors import sync_reporting


def _run(request: AuthenticatedRequest, pk: int, action: str) -> CourseRun:
    """The run `pk` if the person may open it; the audited 404 otherwise."""
    run = get_object_or_404(
        CourseRun.objects.select_related(
            "cohort__programme", "course", "trainer__user", "moderator", "moderated_by"
        ),
        pk=pk,
    )
    open_check(actor=request.user, run=run, action=action)
    return run


@login_required
def results_runs(request: AuthenticatedRequest) -> HttpResponse:
    """The runs whose results the person records, moderates or manages."""
    to_moderate = request.GET.get("show") == "to_moderate"
    runs = results_runs_for(request.user, to_moderate=to_moderate)
    return render(
        request,
        "delivery/results/run_list.html",
        {"page": list_page(request, runs), "to_moderate": to_moderate},
    )


def _gradebook_page(
    request: AuthenticatedRequest,
    run: CourseRun,
    *,
    errors: list[str] | None = None,
    posted: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    book = gradebook_for(run)
    book.show_posted(posted or {})
    return render(
        request,
        "delivery/results/gradebook.html",
        {
            "book": book,
            "run": run,
            "editable": run.moderated_at is None and may_teach(request.user, run),
            "errors": errors or [],
            "new_type": (posted or {}).get("type-new", ""),
            "new": NEW,
            "reporting": sync_reporting() and run.moderated_at is not None,
        },
        status=status,
    )


@login_required
def gradebook(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    run = _run(request, pk, "view:delivery.gradebook")
    if request.method != "POST":
        return _gradebook_page(request, run)
    try:
        book = gradebook_for(run)
        saved = gradebook_save(
            run=run,
            actor=request.user,
            cells=gradebook_cells(request.POST, book),
            reason=request.POST.get("reason", ""),
            seen=cells_seen(request.POST, book),
        )
    except ValidationError as refused:
        return _gradebook_page(
            request,
            run,
            errors=refused.messages,
            posted=posted_values(request.POST),
            status=400,
        )
    if saved.created or saved.corrected:
        messages.success(
            request,
            f"Saved: {saved.created} new result(s), {saved.corrected} corrected.",
        )
    else:
        messages.info(request, "Nothing changed.")
    return redirect("delivery:gradebook", run.pk)


def _void_action(request: AuthenticatedRequest, run: CourseRun) -> str:
    """The page that voids a result of `run` for this person: the trainer's before moderation,
    the moderator's (or a delivery manager's) after; "" when they may not void."""
    if run.moderated_at is None:
        return "delivery:result_void" if may_teach(request.user, run) else ""
    return "delivery:moderated_result_void" if may_void_moderated(request.user, run) else ""


def _learner_page(
    request: AuthenticatedRequest,
    run: CourseRun,
    enrolment: CourseEnrollment,
    *,
    void_form: VoidForm | None = None,
    voiding: int | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "delivery/results/learner_results.html",
        {
            "run": run,
            "enrolment": enrolment,
            "results": results_with_history(enrolment),
            "void_action": _void_action(request, run),
            "reporting": sync_reporting(),
            "void_form": void_form,
            "voiding": voiding,
        },
        status=status,
    )


@login_required
def gradebook_learner(request: AuthenticatedRequest, pk: int, enrolment_pk: int) -> HttpResponse:
    run = _run(request, pk, "view:delivery.gradebook_learner")
    try:
        enrolment = course_enrolment_in_run(run=run, pk=enrolment_pk)
    except CourseEnrollment.DoesNotExist as missing:
        raise Http404 from missing
    return _learner_page(request, run, enrolment)


T = TypeVar("T")


def _void_posted(
    request: AuthenticatedRequest, pk: int, action: str, void: Callable[..., T]
) -> T | HttpResponse:
    """Void the result `pk` with the posted reason through `void` (a service); what it gives
    back, or the learner's page again with the refusal."""
    assessment = get_object_or_404(
        Assessment.objects.select_related("enrolment__enrollment__learner"), pk=pk
    )
    run = _run(request, assessment.enrolment.course_run_id, action)
    form = VoidForm(request.POST)
    form.is_valid()
    try:
        return void(assessment=assessment, actor=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as refused:
        form.add_error(None, refused)
        return _learner_page(
            request, run, assessment.enrolment, void_form=form, voiding=assessment.pk, status=400
        )


def _to_learner_page(assessment: Assessment) -> HttpResponse:
    return redirect(
        "delivery:gradebook_learner", assessment.enrolment.course_run_id, assessment.enrolment_id
    )


@login_required
@require_POST
def result_void(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    voided = _void_posted(request, pk, "assessment.void", assessment_void)
    if isinstance(voided, HttpResponse):
        return voided
    messages.success(request, f"{voided.assessment_type} voided; it stays in the history.")
    return _to_learner_page(voided)


@login_required
@require_POST
def moderated_void(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Void a result of a moderated run: the moderator or who manages delivery, with a reason."""
    done = _void_posted(request, pk, "assessment.void_moderated", moderated_result_void)
    if isinstance(done, HttpResponse):
        return done
    messages.success(request, _moderated_void_said(done))
    for certificate in done.certificates:
        messages.warning(
            request,
            f"{done.assessment.enrolment.enrollment.learner.full_name}'s "
            f"{certificate.get_kind_display().lower()} issued on "
            f"{timezone.localtime(certificate.issued_at):%d %b %Y} still shows the earlier "
            "result: it is unchanged here; whoever issues certificates revokes or reissues it.",
        )
    return _to_learner_page(done.assessment)


def _moderated_void_said(done: ModeratedVoid) -> str:
    """What a void after moderation did, in words: the learner's course result now."""
    enrolment = done.enrolment
    learner = done.assessment.enrolment.enrollment.learner.full_name
    voided = f"{done.assessment.assessment_type} voided; it stays in the history."
    if not done.regraded:
        return voided
    if not enrolment.grade:
        return f"{voided} {learner} has no result that counts any more: no course grade."
    score = f"{enrolment.score.normalize():f}% " if enrolment.score is not None else ""
    standing = "completed" if enrolment.status == CourseEnrollmentStatus.COMPLETED else "not passed"
    return f"{voided} {learner}'s course result is now {score}{enrolment.grade} ({standing})."


def _moderation_page(
    request: AuthenticatedRequest,
    run: CourseRun,
    *,
    moderator_form: ModeratorForm | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    manages = request.user.may("delivery.manage_delivery") and run.moderated_at is None
    if manages and moderator_form is None:
        moderator_form = ModeratorForm(
            candidates=moderator_candidates(run), initial={"moderator": run.moderator_id}
        )
    return render(
        request,
        "delivery/results/moderation.html",
        {
            "run": run,
            "book": gradebook_for(run),
            "may_sign_off": run.moderated_at is None and may_moderate(request.user, run),
            "may_void": run.moderated_at is not None and may_void_moderated(request.user, run),
            "moderator_form": moderator_form if manages else None,
            "errors": errors or [],
        },
        status=status,
    )


@login_required
def moderation(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    run = _run(request, pk, "view:delivery.moderation")
    if request.method != "POST":
        return _moderation_page(request, run)
    try:
        run_results_sign_off(run=run, actor=request.user)
    except ValidationError as refused:
        return _moderation_page(request, run, errors=refused.messages, status=400)
    messages.success(request, "Results signed off: they are final and the course grades set.")
    return redirect("delivery:moderation", run.pk)


@login_required
@require_POST
def run_moderator(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    run = _run(request, pk, "run.moderator_assign")
    form = ModeratorForm(request.POST, candidates=moderator_candidates(run))
    if form.is_valid():
        try:
            run_moderator_assign(
                run=run, actor=request.user, moderator=form.cleaned_data["moderator"]
            )
        except ValidationError as refused:
            form.add_error(None, refused)
        else:
            messages.success(request, f"{form.cleaned_data['moderator']} moderates this run.")
            return redirect("delivery:moderation", run.pk)
    return _moderation_page(request, run, moderator_form=form, status=400)


def _cohort(request: AuthenticatedRequest, pk: int, action: str) -> Cohort:
    cohort = get_object_or_404(Cohort.objects.select_related("programme"), pk=pk)
    permission_check(actor=request.user, action=action, permission=RECORD, obj=cohort)
    return cohort


def _outcomes_page(
    request: AuthenticatedRequest,
    cohort: Cohort,
    *,
    bulk_form: CohortOutcomesForm | None = None,
    failed: tuple[int, OutcomeForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    standings = learner_standings(cohort=cohort)
    rows = [
        (
            standing,
            failed[1]
            if failed and failed[0] == standing.enrollment.pk
            else OutcomeForm(
                prefix=f"e{standing.enrollment.pk}",
                initial={"outcome": standing.ready_outcome or ""},
            ),
        )
        for standing in standings
    ]
    ready = sum(
        1
        for s in standings
        if s.ready_outcome and not s.enrollment.programme_outcome and not s.withdrawn
    )
    return render(
        request,
        "delivery/results/cohort_outcomes.html",
        {
            "cohort": cohort,
            "rows": rows,
            "ready": ready,
            "bulk_form": bulk_form or CohortOutcomesForm(),
        },
        status=status,
    )


@login_required
def cohort_outcomes(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    cohort = _cohort(request, pk, "view:delivery.cohort_outcomes")
    if request.method != "POST":
        return _outcomes_page(request, cohort)
    form = CohortOutcomesForm(request.POST)
    if form.is_valid():
        try:
            recorded = cohort_outcomes_record(
                cohort=cohort,
                actor=request.user,
                completion_date=form.cleaned_data["completion_date"],
            )
        except ValidationError as refused:
            form.add_error(None, refused)
        else:
            messages.success(request, f"Recorded the programme outcome of {recorded} learner(s).")
            return redirect("delivery:cohort_outcomes", cohort.pk)
    return _outcomes_page(request, cohort, bulk_form=form, status=400)


@login_required
@require_POST
def outcome_record(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    enrollment = get_object_or_404(CohortEnrollment.objects.select_related("learner"), pk=pk)
    cohort = _cohort(request, enrollment.cohort_id, "programme_outcome.record")
    form = OutcomeForm(request.POST, prefix=f"e{enrollment.pk}")
    if form.is_valid():
        try:
            programme_outcome_record(
                enrollment=enrollment,
                actor=request.user,
                outcome=form.cleaned_data["outcome"],
                completion_date=form.cleaned_data["completion_date"],
            )
        except ValidationError as refused:
            form.add_error(None, refused)
        else:
            messages.success(
                request, f"Recorded the programme outcome of {enrollment.learner.full_name}."
            )
            return redirect(reverse("delivery:cohort_outcomes", args=[cohort.pk]))
    return _outcomes_page(request, cohort, failed=(enrollment.pk, form), status=400)


@login_required
def my_results(request: AuthenticatedRequest) -> HttpResponse:
    """The signed-in learner's own results: final once moderated, provisional before."""
    return render(
        request, "delivery/results/my_results.html", {"enrolments": learner_results(request.user)}
    )
