from django.urls import path

from tenants import views

app_name = "tenants"

urlpatterns = [
    path("", views.operator_dashboard, name="operator_dashboard"),
    path(
        "institutions/new/", views.operator_institution_create, name="operator_institution_create"
    ),
    path(
        "institutions/<int:pk>/<str:action>/",
        views.operator_institution_status,
        name="operator_institution_status",
    ),
    path(
        "requests/<int:pk>/<str:action>/",
        views.operator_provisioning_request,
        name="operator_provisioning_request",
    ),
]
