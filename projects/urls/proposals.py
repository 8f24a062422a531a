"""The proposal pages: My projects, a new proposal, its form and autosave, submitting, revising
and deleting it."""

from django.urls import URLPattern, path

from projects.views import proposals

urlpatterns: list[URLPattern] = [
    path("my/", proposals.my_projects, name="my_projects"),
    path("new/", proposals.proposal_new, name="proposal_new"),
    path("<int:pk>/proposal/", proposals.proposal_edit, name="proposal_edit"),
    path("<int:pk>/proposal/autosave/", proposals.proposal_autosave, name="proposal_autosave"),
    path("<int:pk>/submit/", proposals.proposal_submit_view, name="proposal_submit"),
    path("<int:pk>/revise/", proposals.proposal_revise_view, name="proposal_revise"),
    path("<int:pk>/delete/", proposals.proposal_delete_view, name="proposal_delete"),
]
