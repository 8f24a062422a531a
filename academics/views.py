"""The catalogue's pages, for who manages it: programmes and their courses with prerequisites,
faculties and departments, academic years and sessions, and closures beside the public
holidays. Views parse a form and call one service or selector; refusals go back on the form."""

import datetime
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from academics import services
from academics.forms import (
    AcademicSessionForm,
    AcademicYearForm,
    CatalogueForm,
    CatalogueImportForm,
    ClosureForm,
    CourseForm,
    DepartmentForm,
    FacultyForm,
    OutcomeForm,
    PrerequisiteForm,
    ProgrammeForm,
)
from academics.imports import (
    COLUMNS,
    MAX_ROWS,
    TEMPLATE_TYPES,
    catalogue_plan,
    catalogue_rows_read,
    catalogue_template,
    import_rows_keep,
    import_rows_kept,
    template_download,
)
from academics.models import (
    AcademicSession,
    AcademicYear,
    Closure,
    Course,
    Department,
    Faculty,
    Outcome,
    Programme,
)
from academics.selectors import (
    academic_years,
    closures_and_holidays,
    course_detail,
    faculty_list,
    programme_detail,
    programme_list,
)
from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_required

MANAGE = services.MANAGE_CATALOGUE


def _form_page(
    request: AuthenticatedRequest,
    form: CatalogueForm,
    save: Callable[[dict[str, Any]], models.Model],
    *,
    heading: str,
    submit: str,
    cancel_url: str,
    done: Callable[[models.Model], str],
    saved: str,
    intro: str = "",
) -> HttpResponse:
    """A form page: on a valid POST, `save` (a service call) and go to `done(saved object)`; a
    refusal goes back on the form."""
    if request.method == "POST" and form.is_valid():
        try:
            obj = save(form.changes())
        except ValidationError as error:
            form.refusal_show(error)
        else:
            messages.success(request, saved.format(obj))
            return redirect(done(obj))
    return render(
        request,
        "academics/form.html",
        {
            "form": form,
            "heading": heading,
            "submit": submit,
            "cancel_url": cancel_url,
            "intro": intro,
        },
        status=400 if form.is_bound else 200,
    )


def _delete_page(
    request: AuthenticatedRequest,
    obj: models.Model,
    delete: Callable[[], None],
    *,
    what: str,
    back: str,
    after: str,
    consequence: str = "",
) -> HttpResponse:
    """Ask first; delete on confirmation, or say why not."""
    if request.method == "POST":
        try:
            delete()
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(back)
        messages.success(request, f"{what} {obj} deleted.")
        return redirect(after)
    return render(
        request,
        "academics/confirm_delete.html",
        {"obj": obj, "what": what, "back": back, "consequence": consequence},
    )


# Programmes and courses


def _programme_url(programme: models.Model) -> str:
    return reverse("academics:programme", args=[programme.pk])


@permission_required(MANAGE)
def programmes(request: AuthenticatedRequest) -> HttpResponse:
    q, active = request.GET.get("q", "").strip(), request.GET.get("active", "")
    items = programme_list(q=q, active=active if active in ("yes", "no") else "")
    return render(
        request,
        "academics/programme_list.html",
        {"page": list_page(request, items), "q": q, "active": active},
    )


def _programme(pk: int) -> Programme:
    try:
        return programme_detail(pk)
    except Programme.DoesNotExist as missing:
        raise Http404 from missing


@permission_required(MANAGE)
def programme(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return render(request, "academics/programme_detail.html", {"programme": _programme(pk)})


@permission_required(MANAGE)
def programme_create(request: AuthenticatedRequest) -> HttpResponse:
    return _form_page(
        request,
        ProgrammeForm(request.POST or None, may_set_fee=request.user.may(services.MANAGE_FEES)),
        lambda fields: services.programme_create(actor=request.user, fields=fields),
        heading="New programme",
        submit="Create programme",
        cancel_url=reverse("academics:programmes"),
        done=_programme_url,
        saved="Programme {} created. Add its courses next.",
        intro="What a cohort studies: its courses become the cohort's course runs.",
    )


@permission_required(MANAGE)
def programme_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Programme, pk=pk)
    return _form_page(
        request,
        ProgrammeForm(
            request.POST or None, instance=item, may_set_fee=request.user.may(services.MANAGE_FEES)
        ),
        lambda changes: services.programme_update(
            programme=item, actor=request.user, changes=changes
        ),
        heading=f"Edit {item}",
        submit="Save",
        cancel_url=item.get_absolute_url(),
        done=_programme_url,
        saved="Programme {} saved.",
    )


@permission_required(MANAGE)
def programme_delete(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Programme, pk=pk)
    return _delete_page(
        request,
        item,
        lambda: services.programme_delete(programme=item, actor=request.user),
        what="Programme",
        back=item.get_absolute_url(),
        after=reverse("academics:programmes"),
        consequence="Only a programme without courses or cohorts can be deleted; otherwise "
        "make it inactive.",
    )


def _course_url(course: models.Model) -> str:
    return reverse("academics:course", args=[course.pk])


@permission_required(MANAGE)
def course_create(request: AuthenticatedRequest, programme_pk: int) -> HttpResponse:
    item = get_object_or_404(Programme, pk=programme_pk)
    return _form_page(
        request,
        CourseForm(request.POST or None),
        lambda fields: services.course_create(
            actor=request.user, fields={**fields, "programme": item}
        ),
        heading=f"New course of {item.name}",
        submit="Add course",
        cancel_url=item.get_absolute_url(),
        done=lambda obj: item.get_absolute_url(),
        saved="Course {} added.",
    )


def _course(pk: int) -> Course:
    try:
        return course_detail(pk)
    except Course.DoesNotExist as missing:
        raise Http404 from missing


@permission_required(MANAGE)
def course(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A course, its outcomes (with their credits added up beside the course's), its
    prerequisites (added here, refused with the path of a cycle) and the courses that require
    it."""
    item = _course(pk)
    form = PrerequisiteForm(request.POST or None, course=item)
    if request.method == "POST" and form.is_valid():
        try:
            services.course_prerequisite_add(
                course=item,
                prerequisite=form.cleaned_data["prerequisite_course"],
                actor=request.user,
            )
        except ValidationError as error:
            form.add_error("prerequisite_course", error.message_dict["prerequisite_course"])
        else:
            messages.success(
                request,
                f"{item.code} now requires {form.cleaned_data['prerequisite_course'].code}.",
            )
            return redirect(_course_url(item))
    outcomes = list(item.outcomes.all())
    return render(
        request,
        "academics/course_detail.html",
        {
            "course": item,
            "form": form,
            "outcomes": outcomes,
            "outcome_credits": sum(outcome.credits for outcome in outcomes if outcome.is_active),
        },
        status=400 if form.is_bound else 200,
    )


@permission_required(MANAGE)
def course_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Course.objects.select_related("programme"), pk=pk)
    return _form_page(
        request,
        CourseForm(request.POST or None, instance=item),
        lambda changes: services.course_update(course=item, actor=request.user, changes=changes),
        heading=f"Edit {item}",
        submit="Save",
        cancel_url=_course_url(item),
        done=_course_url,
        saved="Course {} saved.",
    )


@permission_required(MANAGE)
def course_delete(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Course.objects.select_related("programme"), pk=pk)
    return _delete_page(
        request,
        item,
        lambda: services.course_delete(course=item, actor=request.user),
        what="Course",
        back=_course_url(item),
        after=item.programme.get_absolute_url(),
        consequence="Its prerequisites go with it. A course that has been run cannot be "
        "deleted: make it inactive instead.",
    )


@permission_required(MANAGE)
@require_POST
def prerequisite_remove(
    request: AuthenticatedRequest, pk: int, prerequisite_pk: int
) -> HttpResponse:
    item = get_object_or_404(Course, pk=pk)
    prerequisite = get_object_or_404(Course, pk=prerequisite_pk, programme=item.programme_id)
    services.course_prerequisite_remove(course=item, prerequisite=prerequisite, actor=request.user)
    messages.success(request, f"{item.code} no longer requires {prerequisite.code}.")
    return redirect(_course_url(item))


# Outcomes of a course


def _outcome(pk: int) -> Outcome:
    return get_object_or_404(Outcome.objects.select_related("course__programme"), pk=pk)


@permission_required(MANAGE)
def outcome_add(request: AuthenticatedRequest, course_pk: int) -> HttpResponse:
    item = get_object_or_404(Course, pk=course_pk)
    return _form_page(
        request,
        OutcomeForm(request.POST or None),
        lambda fields: services.outcome_create(course=item, actor=request.user, fields=fields),
        heading=f"New outcome of {item.code} {item.name}",
        submit="Add outcome",
        cancel_url=_course_url(item),
        done=lambda obj: _course_url(item),
        saved="Outcome {} added.",
        intro="A unit standard or a module the course's learners show they can do: each gets "
        "a portfolio of evidence, built from the logbook.",
    )


@permission_required(MANAGE)
def outcome_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    item = _outcome(pk)
    return _form_page(
        request,
        OutcomeForm(request.POST or None, instance=item),
        lambda changes: services.outcome_update(outcome=item, actor=request.user, changes=changes),
        heading=f"Edit outcome {item.code}",
        submit="Save",
        cancel_url=_course_url(item.course),
        done=lambda obj: _course_url(item.course),
        saved="Outcome {} saved.",
    )


@permission_required(MANAGE)
def outcome_delete(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    item = _outcome(pk)
    return _delete_page(
        request,
        item,
        lambda: services.outcome_delete(outcome=item, actor=request.user),
        what="Outcome",
        back=_course_url(item.course),
        after=_course_url(item.course),
        consequence="Only an outcome without portfolios or logbook entries can be deleted: "
        "otherwise make it inactive.",
    )


# Faculties and departments


@permission_required(MANAGE)
def faculties(request: AuthenticatedRequest) -> HttpResponse:
    return render(request, "academics/faculties.html", {"faculties": faculty_list()})


def _faculties_url(_: object = None) -> str:
    return reverse("academics:faculties")


@permission_required(MANAGE)
def faculty_create(request: AuthenticatedRequest) -> HttpResponse:
    return _form_page(
        request,
        FacultyForm(request.POST or None),
        lambda fields: services.faculty_create(actor=request.user, fields=fields),
        heading="New faculty",
        submit="Create faculty",
        cancel_url=_faculties_url(),
        done=_faculties_url,
        saved="Faculty {} created.",
    )


@permission_required(MANAGE)
def faculty_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Faculty, pk=pk)
    return _form_page(
        request,
        FacultyForm(request.POST or None, instance=item),
        lambda changes: services.faculty_update(faculty=item, actor=request.user, changes=changes),
        heading=f"Edit {item}",
        submit="Save",
        cancel_url=_faculties_url(),
        done=_faculties_url,
        saved="Faculty {} saved.",
    )


@permission_required(MANAGE)
def faculty_delete(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Faculty, pk=pk)
    return _delete_page(
        request,
        item,
        lambda: services.faculty_delete(faculty=item, actor=request.user),
        what="Faculty",
        back=_faculties_url(),
        after=_faculties_url(),
        consequence="Only a faculty without departments can be deleted.",
    )


@permission_required(MANAGE)
def department_create(request: AuthenticatedRequest) -> HttpResponse:
    return _form_page(
        request,
        DepartmentForm(request.POST or None, initial={"faculty": request.GET.get("faculty")}),
        lambda fields: services.department_create(actor=request.user, fields=fields),
        heading="New department",
        submit="Create department",
        cancel_url=_faculties_url(),
        done=_faculties_url,
        saved="Department {} created.",
    )


@permission_required(MANAGE)
def department_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Department, pk=pk)
    return _form_page(
        request,
        DepartmentForm(request.POST or None, instance=item),
        lambda changes: services.department_update(
            department=item, actor=request.user, changes=changes
        ),
        heading=f"Edit {item}",
        submit="Save",
        cancel_url=_faculties_url(),
        done=_faculties_url,
        saved="Department {} saved.",
    )


@permission_required(MANAGE)
def department_delete(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Department, pk=pk)
    return _delete_page(
        request,
        item,
        lambda: services.department_delete(department=item, actor=request.user),
        what="Department",
        back=_faculties_url(),
        after=_faculties_url(),
        consequence="Only a department without programmes can be deleted.",
    )


# Academic years and sessions


def _years_url(_: object = None) -> str:
    return reverse("academics:years")


@permission_required(MANAGE)
def years(request: AuthenticatedRequest) -> HttpResponse:
    return render(request, "academics/years.html", {"years": academic_years()})


@permission_required(MANAGE)
def year_create(request: AuthenticatedRequest) -> HttpResponse:
    return _form_page(
        request,
        AcademicYearForm(request.POST or None),
        lambda fields: services.academic_year_create(actor=request.user, fields=fields),
        heading="New academic year",
        submit="Create year",
        cancel_url=_years_url(),
        done=_years_url,
        saved="Academic year {} created.",
        intro="Academic years never overlap; their sessions (terms) fall within them.",
    )


@permission_required(MANAGE)
def year_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(AcademicYear, pk=pk)
    return _form_page(
        request,
        AcademicYearForm(request.POST or None, instance=item),
        lambda changes: services.academic_year_update(
            year=item, actor=request.user, changes=changes
        ),
        heading=f"Edit {item}",
        submit="Save",
        cancel_url=_years_url(),
        done=_years_url,
        saved="Academic year {} saved.",
    )


@permission_required(MANAGE)
def year_delete(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(AcademicYear, pk=pk)
    return _delete_page(
        request,
        item,
        lambda: services.academic_year_delete(year=item, actor=request.user),
        what="Academic year",
        back=_years_url(),
        after=_years_url(),
        consequence="Only a year without sessions can be deleted.",
    )


@permission_required(MANAGE)
def session_create(request: AuthenticatedRequest) -> HttpResponse:
    return _form_page(
        request,
        AcademicSessionForm(
            request.POST or None, initial={"academic_year": request.GET.get("year")}
        ),
        lambda fields: services.academic_session_create(actor=request.user, fields=fields),
        heading="New academic session",
        submit="Create session",
        cancel_url=_years_url(),
        done=_years_url,
        saved="Session {} created.",
        intro="The first session becomes the current one; afterwards you choose which is "
        "current on the years page.",
    )


@permission_required(MANAGE)
def session_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(AcademicSession, pk=pk)
    return _form_page(
        request,
        AcademicSessionForm(request.POST or None, instance=item),
        lambda changes: services.academic_session_update(
            session=item, actor=request.user, changes=changes
        ),
        heading=f"Edit {item}",
        submit="Save",
        cancel_url=_years_url(),
        done=_years_url,
        saved="Session {} saved.",
    )


@permission_required(MANAGE)
@require_POST
def session_make_current(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(AcademicSession, pk=pk)
    services.academic_session_make_current(session=item, actor=request.user)
    messages.success(request, f"{item} is now the current session.")
    return redirect(_years_url())


@permission_required(MANAGE)
def session_delete(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(AcademicSession, pk=pk)
    return _delete_page(
        request,
        item,
        lambda: services.academic_session_delete(session=item, actor=request.user),
        what="Session",
        back=_years_url(),
        after=_years_url(),
        consequence="The current session can be deleted only when it is the last one.",
    )


# Closures and the working calendar


def _closures_url(_: object = None) -> str:
    return reverse("academics:closures")


@permission_required(MANAGE)
def closures(request: AuthenticatedRequest) -> HttpResponse:
    """The year's closures and every weekday off (public holidays and closures), as schedules
    and working-day deadlines see them."""
    this_year = timezone.localdate().year
    try:
        year = int(request.GET.get("year", this_year))
    except ValueError:
        year = this_year
    year = min(max(year, datetime.MINYEAR + 1), datetime.MAXYEAR - 1)
    items, days_off = closures_and_holidays(year)
    return render(
        request,
        "academics/closures.html",
        {"year": year, "closures": items, "days_off": days_off},
    )


@permission_required(MANAGE)
def closure_create(request: AuthenticatedRequest) -> HttpResponse:
    return _form_page(
        request,
        ClosureForm(request.POST or None),
        lambda fields: services.closure_create(actor=request.user, fields=fields),
        heading="New closure",
        submit="Add closure",
        cancel_url=_closures_url(),
        done=_closures_url,
        saved="Closure {} added: schedules skip it.",
        intro="Days the institution is closed besides public holidays. Sessions are not "
        "scheduled on them and working-day deadlines do not count them.",
    )


@permission_required(MANAGE)
def closure_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Closure, pk=pk)
    return _form_page(
        request,
        ClosureForm(request.POST or None, instance=item),
        lambda changes: services.closure_update(closure=item, actor=request.user, changes=changes),
        heading=f"Edit {item}",
        submit="Save",
        cancel_url=_closures_url(),
        done=_closures_url,
        saved="Closure {} saved.",
    )


@permission_required(MANAGE)
def closure_delete(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Closure, pk=pk)
    return _delete_page(
        request,
        item,
        lambda: services.closure_delete(closure=item, actor=request.user),
        what="Closure",
        back=_closures_url(),
        after=_closures_url(),
        consequence="Sessions already scheduled stay; new schedules will use these days.",
    )


# The catalogue from a spreadsheet

IMPORT_SESSION_KEY = "academics_catalogue_import"


@permission_required(MANAGE)
def catalogue_import(request: AuthenticatedRequest) -> HttpResponse:
    """Upload: the file is read and checked at once (a catalogue is small); its rows wait in
    the session for the preview and the confirmation, which checks them again."""
    form = CatalogueImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            rows = catalogue_rows_read(upload.read())
        except ValidationError as error:
            form.add_error("file", error)
        else:
            import_rows_keep(request.session, IMPORT_SESSION_KEY, upload.name, rows)
            return redirect("academics:import_preview")
    return render(
        request,
        "academics/import_upload.html",
        {"form": form, "columns": COLUMNS, "max_rows": MAX_ROWS},
        status=400 if form.is_bound else 200,
    )


@permission_required(MANAGE)
def catalogue_import_preview(request: AuthenticatedRequest) -> HttpResponse:
    """What confirming would create and change, and each refused row with its reasons."""
    kept = import_rows_kept(request.session, IMPORT_SESSION_KEY)
    if kept is None:
        messages.info(request, "Upload a file to import first.")
        return redirect("academics:import")
    name, rows = kept
    plan = catalogue_plan(rows)
    return render(
        request,
        "academics/import_preview.html",
        {"name": name, "plan": plan, "counts": plan.counts(), "columns": COLUMNS},
    )


@permission_required(MANAGE)
@require_POST
def catalogue_import_confirm(request: AuthenticatedRequest) -> HttpResponse:
    kept = import_rows_kept(request.session, IMPORT_SESSION_KEY)
    if kept is None:
        messages.info(request, "Upload a file to import first.")
        return redirect("academics:import")
    try:
        counts = services.catalogue_import(actor=request.user, rows=kept[1])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("academics:import_preview")
    del request.session[IMPORT_SESSION_KEY]
    messages.success(
        request,
        f"Imported: {counts['new_programmes']} new and {counts['changed_programmes']} changed "
        f"programmes, {counts['new_courses']} new and {counts['changed_courses']} changed "
        f"courses, {counts['prerequisites']} prerequisites.",
    )
    return redirect("academics:programmes")


@permission_required(MANAGE)
def catalogue_import_template(request: AuthenticatedRequest, kind: str) -> HttpResponse:
    if kind not in TEMPLATE_TYPES:
        raise Http404
    return template_download(catalogue_template(kind), kind, "catalogue-template")
