"""Payments received, their allocations, and bank statement imports."""

from django.urls import URLPattern, path

from finance.views import payments as views

urlpatterns: list[URLPattern] = [
    path("payments/", views.payment_list_view, name="payments"),
    path("payments/new/", views.payment_create, name="payment_create"),
    path("payments/<int:pk>/", views.payment_detail_view, name="payment"),
    path("payments/<int:pk>/allocate/", views.payment_allocate, name="payment_allocate"),
    path(
        "payments/<int:pk>/allocations/<int:allocation_pk>/remove/",
        views.allocation_remove_view,
        name="allocation_remove",
    ),
    path("payments/<int:pk>/complete/", views.payment_complete_view, name="payment_complete"),
    path("payments/<int:pk>/fail/", views.payment_fail_view, name="payment_fail"),
    path("payments/<int:pk>/refund/", views.payment_refund_view, name="payment_refund"),
    path("statements/", views.statement_import_list_view, name="statement_imports"),
    path("statements/upload/", views.statement_upload, name="statement_upload"),
    path("statements/<int:pk>/", views.statement_import_view, name="statement_import"),
    path(
        "statements/<int:pk>/lines/<int:line_pk>/match/",
        views.statement_line_match_view,
        name="statement_line_match",
    ),
    path(
        "statements/<int:pk>/lines/<int:line_pk>/ignore/",
        views.statement_line_ignore_view,
        name="statement_line_ignore",
    ),
]
