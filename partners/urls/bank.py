"""Bank details: a partner's new details asked for, and the changes waiting for a second
person."""

from django.urls import URLPattern, path

from partners.views import bank as views

urlpatterns: list[URLPattern] = [
    path("<int:pk>/bank/", views.bank_request_view, name="bank_request"),
    path("bank-changes/", views.bank_changes_view, name="bank_changes"),
    path("bank-changes/<int:pk>/", views.bank_change_view, name="bank_change"),
    path(
        "bank-changes/<int:pk>/confirm/", views.bank_change_confirm_view, name="bank_change_confirm"
    ),
    path("bank-changes/<int:pk>/reject/", views.bank_change_reject_view, name="bank_change_reject"),
]
