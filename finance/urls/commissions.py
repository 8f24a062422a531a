"""Partners' commissions: the list and the commissions-owed report, cancelling one, paying a
partner."""

from django.urls import URLPattern, path

from finance.views import commissions as views

urlpatterns: list[URLPattern] = [
    path("commissions/", views.commission_list_page, name="commissions"),
    path("commissions/<int:pk>/cancel/", views.commission_cancel_page, name="commission_cancel"),
    path(
        "commissions/partners/<int:partner_pk>/pay/",
        views.commissions_pay_page,
        name="commissions_pay",
    ),
]
