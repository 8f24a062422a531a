"""The cohort page's export of its students (enrolments.exports), for those who manage
enrolments."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect

from accounts.http import AuthenticatedRequest
from accounts.permissions import permission_required
from cohorts.forms import StudentFilterForm
from cohorts.models import Cohort
from cohorts.selectors import cohort_for_dashboard
from enrolments.exports import FORMATS, cohort_students_export


@permission_required("enrolments.manage_enrolments")
def cohort_students_export_view(
    request: AuthenticatedRequest, cohort_pk: int, file_format: str
) -> HttpResponse:
    """The file, with the cohort page's filters from the query string; filters that are not
    valid send the admin back to the page, which says what is wrong with them."""
    if file_format not in FORMATS:
        raise Http404
    try:
        cohort = cohort_for_dashboard(user=request.user, pk=cohort_pk)
    except Cohort.DoesNotExist as missing:
        raise Http404 from missing
    filters = StudentFilterForm(request.GET or None)
    if filters.is_bound and not filters.is_valid():
        messages.error(request, "Choose the filters from the lists before exporting.")
        return redirect(f"{cohort.get_absolute_url()}?{filters.query}")
    export = cohort_students_export(
        cohort=cohort,
        actor=request.user,
        file_format=file_format,
        filters=filters.selector_filters(),
    )
    response = HttpResponse(export.content, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["Cache-Control"] = "no-store"
    return response
