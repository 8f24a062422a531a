"""Invoices and credit notes."""

from django.urls import URLPattern, path

from finance.views import invoices as views

urlpatterns: list[URLPattern] = [
    path("invoices/", views.invoice_list_page, name="invoices"),
    path("invoices/new/", views.invoice_create, name="invoice_create"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice"),
    path("invoices/<int:pk>/edit/", views.invoice_edit, name="invoice_edit"),
    path("invoices/<int:pk>/issue/", views.invoice_issue_confirm, name="invoice_issue"),
    path("invoices/<int:pk>/delete/", views.invoice_delete, name="invoice_delete"),
    path("invoices/<int:pk>/void/", views.invoice_void_confirm, name="invoice_void"),
    path("invoices/<int:pk>/credit/", views.invoice_credit, name="invoice_credit"),
    path("invoices/<int:pk>/resend/", views.invoice_resend_view, name="invoice_resend"),
    path("invoices/<int:pk>/pdf/", views.invoice_pdf, name="invoice_pdf"),
]
