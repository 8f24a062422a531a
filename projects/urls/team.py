"""The team area: members, milestones (a timeline, with evidence files) and starting and
completing a project."""

from django.urls import URLPattern, path

from projects.views import team

urlpatterns: list[URLPattern] = [
    path("<int:pk>/members/", team.members, name="members"),
    path("<int:pk>/members/add/", team.member_add_view, name="member_add"),
    path("members/<int:pk>/leave/", team.member_leave_view, name="member_leave"),
    path("<int:pk>/leader/", team.leader_change_view, name="leader_change"),
    path("<int:pk>/milestones/", team.milestones, name="milestones"),
    path("<int:pk>/milestones/add/", team.milestone_add_view, name="milestone_add"),
    path("milestones/<int:pk>/edit/", team.milestone_edit_view, name="milestone_edit"),
    path("milestones/<int:pk>/delete/", team.milestone_delete_view, name="milestone_delete"),
    path("milestones/<int:pk>/start/", team.milestone_start_view, name="milestone_start"),
    path("milestones/<int:pk>/complete/", team.milestone_complete_view, name="milestone_complete"),
    path("milestone-evidence/<int:pk>/", team.milestone_evidence, name="milestone_evidence"),
    path("<int:pk>/start/", team.project_start_view, name="project_start"),
    path("<int:pk>/complete/", team.project_complete_view, name="project_complete"),
]
