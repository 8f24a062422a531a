from django.urls import path

from tenants import views

app_name = "tenants"

urlpatterns = [
    path("", views.operator_dashboard, name="operator_dashboard"),
    path(
        "institutions/new/", views.operator_institution_create, name="operator_institution_create"
    ),
    path(
        "institutions/<int:pk>/",
        views.operator_institution_detail,
        name="operator_institution_detail",
    ),
    path(
        "institutions/<int:pk>/suspend/",
        views.operator_institution_suspend,
        name="operator_institution_suspend",
    ),
    path(
        "institutions/<int:pk>/reactivate/",
        views.operator_institution_reactivate,
        name="operator_institution_reactivate",
    ),
    path(
        "requests/<int:pk>/<str:action>/",
        views.operator_provisioning_request,
        name="operator_provisioning_request",
    ),
]
