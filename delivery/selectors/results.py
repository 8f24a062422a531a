"""What the results pages read: a run's gradebook (learners by assessment), one learner's
results in a run with their history, the runs a person records or moderates, and a learner's
own results. Each in a number of queries that does not grow with the learners."""

from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, QuerySet

from academics.grading import GradeRules, grade_rules_for
from accounts.models import User
from delivery.access import runs_for
from delivery.models import (
    Assessment,
    AssessmentChange,
    CourseEnrollment,
    CourseEnrollmentStatus,
    CourseRun,
)
from delivery.selectors.gateway import GatewayStanding, gateway_standing
from delivery.services.assessments import mark_shown
from delivery.services.moderation import LEFT_THE_RUN, CourseGrade, course_grade


@dataclass
class GradebookCell:
    """One input of the grid: its field name, what a screen reader calls it, the recorded
    result (or None), the text it shows and the text the page first showed (`was`, posted
    back to tell a change from a save by someone else since)."""

    name: str
    assessment_type: str
    label: str
    result: Assessment | None
    text: str
    was: str = ""
    gateway: GatewayStanding | None = None


@dataclass
class GradebookRow:
    enrolment: CourseEnrollment
    cells: list[GradebookCell]
    new_cell: GradebookCell
    grade: CourseGrade | None


@dataclass
class Gradebook:
    run: CourseRun
    rules: GradeRules
    assessment_types: list[str]
    rows: list[GradebookRow] = field(default_factory=list)

    def show_posted(self, posted: dict[str, str]) -> None:
        """Put back what was typed in a save that was refused."""
        for row in self.rows:
            for cell in [*row.cells, row.new_cell]:
                cell.text = posted.get(cell.name, cell.text)
                cell.was = posted.get(f"was-{cell.name}", cell.was)

    @property
    def missing(self) -> int:
        """Learners without a result that counts."""
        return sum(1 for row in self.rows if row.grade is None)


def run_for_results(*, user: User, pk: int) -> CourseRun:
    """The run `pk` if `user` may open it (raises CourseRun.DoesNotExist otherwise)."""
    run: CourseRun = (
        runs_for(user)
        .select_related("cohort__programme", "course", "trainer", "moderator", "moderated_by")
        .get(pk=pk)
    )
    return run


def _result_standing(
    result: Assessment | None, enrolment: CourseEnrollment
) -> GatewayStanding | None:
    if result is None:
        return None
    return gateway_standing(
        sync_status=result.sync_status,
        sync_reference=result.sync_reference,
        sync_error=result.sync_error,
        learner=enrolment.enrollment.learner,
    )


def gradebook_for(run: CourseRun) -> Gradebook:
    """The run's learners (those who left it aside) by its assessments, in the order the
    assessments were first recorded, with the course grade the results give so far."""
    rules = grade_rules_for(run.cohort.programme)
    enrolments = list(
        CourseEnrollment.objects.filter(course_run=run)
        .exclude(LEFT_THE_RUN)
        .select_related("enrollment__learner")
        .prefetch_related(
            Prefetch("assessments", queryset=Assessment.objects.order_by("created_at", "pk"))
        )
        .order_by("enrollment__learner__last_name", "enrollment__learner__first_name", "pk")
    )
    types: list[str] = []
    for enrolment in enrolments:
        for assessment in enrolment.assessments.all():
            if assessment.assessment_type not in types:
                types.append(assessment.assessment_type)
    book = Gradebook(run=run, rules=rules, assessment_types=types)
    for enrolment in enrolments:
        mine = {a.assessment_type: a for a in enrolment.assessments.all()}
        who = enrolment.enrollment.learner.full_name
        cells = []
        for index, name in enumerate(types):
            result = mine.get(name)
            text = mark_shown(result) if result else ""
            cells.append(
                GradebookCell(
                    name=f"cell-{enrolment.pk}-{index}",
                    assessment_type=name,
                    label=f"{who}, {name}",
                    result=result,
                    text=text,
                    was=text,
                    gateway=_result_standing(result, enrolment),
                )
            )
        book.rows.append(
            GradebookRow(
                enrolment=enrolment,
                cells=cells,
                new_cell=GradebookCell(
                    name=f"cell-{enrolment.pk}-new",
                    assessment_type="",
                    label=f"{who}, new assessment",
                    result=None,
                    text="",
                ),
                grade=course_grade(list(mine.values()), rules),
            )
        )
    return book


def course_enrolment_in_run(*, run: CourseRun, pk: int) -> CourseEnrollment:
    enrolment: CourseEnrollment = CourseEnrollment.objects.select_related(
        "enrollment__learner"
    ).get(course_run=run, pk=pk)
    return enrolment


def results_with_history(enrolment: CourseEnrollment) -> QuerySet[Assessment]:
    """A learner's results in one run, each with its corrections and voids, newest first."""
    return (
        Assessment.objects.filter(enrolment=enrolment)
        .select_related("assessor")
        .prefetch_related(
            Prefetch(
                "changes",
                queryset=AssessmentChange.objects.select_related("changed_by").order_by(
                    "-changed_at", "-pk"
                ),
            )
        )
        .order_by("created_at", "pk")
    )


def results_runs_for(user: User, *, to_moderate: bool = False) -> QuerySet[CourseRun]:
    """The runs `user` records results in, moderates or manages, with their learner and
    result counts; `to_moderate`: only the runs given to them and not yet signed off."""
    runs = runs_for(user)
    if to_moderate:
        runs = runs.filter(moderator=user, moderated_at__isnull=True)
    return (
        runs.exclude(status="cancelled")
        .select_related("cohort", "trainer", "moderator")
        .annotate(
            learner_count=Count(
                "enrollments",
                filter=~Q(enrollments__status=CourseEnrollmentStatus.DROPPED),
                distinct=True,
            ),
            result_count=Count("enrollments__assessments", distinct=True),
        )
        .order_by("moderated_at", "-start_date", "course_ref")
    )


def learner_results(user: User) -> QuerySet[CourseEnrollment]:
    """The person's own course enrolments with their results, newest run first."""
    return (
        CourseEnrollment.objects.filter(enrollment__user=user)
        .select_related("course_run", "enrollment__cohort")
        .prefetch_related(
            Prefetch("assessments", queryset=Assessment.objects.order_by("created_at", "pk"))
        )
        .order_by("-course_run__start_date", "course_run__course_ref")
    )
