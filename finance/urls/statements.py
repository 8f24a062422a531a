"""Partners' monthly commission statements, as pages and sealed PDFs; a partner's contact's
own."""

from django.urls import URLPattern, path

from finance.views import statements as views

urlpatterns: list[URLPattern] = [
    path("statements/mine/", views.my_statements, name="my_statements"),
    path(
        "statements/partners/<int:partner_pk>/",
        views.partner_statements,
        name="partner_statements",
    ),
    path(
        "statements/partners/<int:partner_pk>/<int:year>/<int:month>/",
        views.statement_page,
        name="partner_statement",
    ),
    path(
        "statements/partners/<int:partner_pk>/<int:year>/<int:month>/pdf/",
        views.statement_pdf_download,
        name="partner_statement_pdf",
    ),
]
