"""The learner's portfolio of evidence for a course run as one sealed PDF."""

from django.urls import path

from workplace.views import exports

urlpatterns = [
    path(
        "portfolios/course/<int:course_enrollment_pk>/pdf/",
        exports.portfolio_pdf,
        name="portfolio_pdf",
    ),
]
