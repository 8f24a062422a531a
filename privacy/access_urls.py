from django.urls import URLPattern

app_name = "access_requests"
urlpatterns: list[URLPattern] = []
