"""The learner's portfolio of evidence for a course run as one sealed PDF: a page that says what
it holds, and producing it (POST), which streams the sealed file. The learner, staff who manage
delivery, assessors whose registration covers the programme and moderators sampling it reach
it; anyone else gets the audited 404."""

import re

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from delivery.models import CourseEnrollment
from enrolments.uploads import stored_file_response
from tenants.ratelimits import rate_limited
from workplace.access import MANAGE_DELIVERY, is_own_course_enrollment
from workplace.models import PortfolioExport
from workplace.portfolio_pdf import MAX_EVIDENCE_BYTES, MAX_PAGES
from workplace.selectors.exports import (
    export_course_enrollment,
    export_list,
)
from workplace.services.exports import portfolio_export, portfolio_export_check

UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
# Each PDF is rendered and sealed in the request and kept: a person produces a few an hour.
EXPORT_RATE = "10/h"
TOO_MANY_EXPORTS = (
    "You have produced this PDF several times in the last hour: try again later, or use the "
    "copy you downloaded."
)


def export_filename(course_enrollment: CourseEnrollment) -> str:
    """portfolio-<course code>-<learner record>.pdf, in letters, digits and dashes only."""
    code = UNSAFE.sub("-", course_enrollment.course.code).strip("-") or "course"
    learner_id = course_enrollment.enrollment.learner_id or course_enrollment.pk
    return f"portfolio-{code}-{learner_id}.pdf"


def export_response(
    export: PortfolioExport, course_enrollment: CourseEnrollment
) -> HttpResponseBase:
    return stored_file_response(
        file=export.pdf,
        filename=export_filename(course_enrollment),
        content_type="application/pdf",
        as_attachment=True,
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def portfolio_pdf(request: AuthenticatedRequest, course_enrollment_pk: int) -> HttpResponseBase:
    try:
        course_enrollment = export_course_enrollment(course_enrollment_pk)
    except CourseEnrollment.DoesNotExist as missing:
        raise Http404 from missing
    portfolio_export_check(request.user, course_enrollment, "view:workplace.portfolio_pdf")
    error = ""
    status = 200
    if request.method == "POST" and rate_limited(
        request, group="workplace.portfolio_pdf", key="user", rate=EXPORT_RATE
    ):
        error, status = TOO_MANY_EXPORTS, 429
    elif request.method == "POST":
        try:
            export = portfolio_export(actor=request.user, course_enrollment=course_enrollment)
        except ValidationError as refusal:
            error, status = " ".join(refusal.messages), 400
        else:
            return export_response(export, course_enrollment)
    staff = request.user.may(MANAGE_DELIVERY)
    return render(
        request,
        "workplace/exports/portfolio_pdf.html",
        {
            "course_enrollment": course_enrollment,
            "learner": course_enrollment.enrollment.learner,
            "course": course_enrollment.course,
            "run": course_enrollment.course_run,
            "own": is_own_course_enrollment(request.user, course_enrollment.pk),
            "page": list_page(request, export_list(course_enrollment)) if staff else None,
            "error": error,
            "max_mb": MAX_EVIDENCE_BYTES // 1024 // 1024,
            "max_pages": MAX_PAGES,
        },
        status=status,
    )
