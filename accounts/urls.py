from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="accounts/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("invitation/<str:token>/", views.invitation_accept_view, name="invitation_accept"),
    path("invitation/<str:token>/resend/", views.invitation_resend_view, name="invitation_resend"),
    path("people/", views.people_list, name="people_list"),
    path("people/invite/", views.people_invite, name="people_invite"),
    path("people/<int:pk>/", views.people_detail, name="people_detail"),
    path("people/<int:pk>/access/", views.people_access, name="people_access"),
    path("people/roles/", views.roles, name="roles"),
    path("people/roles/new/", views.role_edit, name="role_create"),
    path("people/roles/<int:pk>/", views.role_detail, name="role_detail"),
    path("people/roles/<int:pk>/edit/", views.role_edit, name="role_edit"),
    path("people/roles/<int:pk>/delete/", views.role_delete_view, name="role_delete"),
    path("people/<int:pk>/delete/", views.people_delete, name="people_delete"),
    path("people/<int:pk>/restore/", views.people_restore, name="people_restore"),
    path(
        "people/<int:pk>/deactivate/",
        views.people_set_active,
        {"active": False},
        name="people_deactivate",
    ),
    path(
        "people/<int:pk>/reactivate/",
        views.people_set_active,
        {"active": True},
        name="people_reactivate",
    ),
]
