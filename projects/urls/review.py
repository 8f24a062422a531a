"""The review pages: a project's Review tab, scoring, sending to the panel and deciding; the
reviewer's queue; the institution's criteria and panels."""

from django.urls import URLPattern, path

from projects.views import review

urlpatterns: list[URLPattern] = [
    path("<int:pk>/review/", review.review, name="review"),
    path("<int:pk>/review/score/", review.review_score, name="review_score"),
    path("<int:pk>/review/send/", review.review_send_confirm, name="review_send"),
    path("<int:pk>/decide/", review.decide, name="decide"),
    path("reviews/", review.my_reviews, name="my_reviews"),
    path("criteria/", review.criteria, name="criteria"),
    path("criteria/new/", review.criterion_new, name="criterion_new"),
    path("criteria/<int:pk>/edit/", review.criterion_edit, name="criterion_edit"),
    path("criteria/<int:pk>/deactivate/", review.criterion_deactivate, name="criterion_deactivate"),
    path("criteria/<int:pk>/reactivate/", review.criterion_reactivate, name="criterion_reactivate"),
    path("panels/", review.panels, name="panels"),
    path("panels/new/", review.panel_new, name="panel_new"),
    path("panels/<int:pk>/edit/", review.panel_edit, name="panel_edit"),
]
