from django.urls import path

from finance.views import overview

urlpatterns = [path("", overview.overview, name="overview")]
