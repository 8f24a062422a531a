from django.urls import path

from learners import profile_views

app_name = "profile"

urlpatterns = [
    path("", profile_views.profile, name="profile"),
    path("consents/", profile_views.consents, name="consents"),
]
