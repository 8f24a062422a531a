from django.urls import URLPattern, path

from workplace.views import moderation as views

urlpatterns: list[URLPattern] = [
    path("moderation/", views.moderation, name="moderation"),
    path("moderation/policy/", views.moderation_policy, name="moderation_policy"),
    path("moderation/samples/draw/", views.sample_draw_view, name="sample_draw"),
    path("moderation/samples/<int:pk>/", views.sample, name="sample"),
    path(
        "moderation/samples/<int:pk>/complete/", views.sample_complete_view, name="sample_complete"
    ),
    path("moderation/items/<int:pk>/", views.sample_item, name="sample_item"),
]
