"""Pages reached without an account (under sign/): token links and the verify page."""

from django.urls import path

from signing import views

app_name = "signing_public"

urlpatterns = [
    path("verify/", views.verify, name="verify"),
    path("<str:token>/", views.sign, name="sign"),
    path("<str:token>/document.pdf", views.sign_document, name="document"),
    path("<str:token>/new-link/", views.link_resend_view, name="link_resend"),
]
