from django.urls import URLPattern

app_name = "academics"
urlpatterns: list[URLPattern] = []
