from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from accounts.forms import (
    EmailAuthenticationForm,
    InvitationAcceptForm,
    OutboxPasswordResetForm,
    PeopleFilterForm,
    UserInviteForm,
    UserRolesForm,
)
from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.models import Role, User
from accounts.permissions import PEOPLE_MANAGERS, role_required
from accounts.selectors import invitation_for_token, user_list
from accounts.services import (
    invitation_accept,
    invitation_resend,
    user_deactivate,
    user_invite,
    user_password_change,
    user_reactivate,
    user_roles_set,
)


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    form_class = OutboxPasswordResetForm
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        """The form checked the link and the new password; the service sets it."""
        user_password_change(
            user=form.user, new_password=form.cleaned_data["new_password1"], reset=True
        )
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        return HttpResponseRedirect(self.get_success_url())


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        """The form checked the old password and the new one; the service sets it. The hash
        in this session follows, so only the person's other sessions end."""
        user = user_password_change(user=form.user, new_password=form.cleaned_data["new_password1"])
        update_session_auth_hash(self.request, user)
        messages.success(self.request, "Your password has been changed.")
        return HttpResponseRedirect(self.get_success_url())


def invitation_accept_view(request: HttpRequest, token: str) -> HttpResponse:
    invitation = invitation_for_token(token)
    if invitation is None or not invitation.is_usable:
        return render(
            request,
            "accounts/invitation_unusable.html",
            {"invitation": invitation, "token": token},
            status=410 if invitation else 404,
        )
    form = InvitationAcceptForm(request.POST or None, user=invitation.user)
    if request.method == "POST" and form.is_valid():
        try:
            user = invitation_accept(
                invitation=invitation,
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password1"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, "Welcome! Your account is ready.")
            return redirect("home")
    return render(
        request, "accounts/invitation_accept.html", {"form": form, "invitation": invitation}
    )


@require_POST
def invitation_resend_view(request: HttpRequest, token: str) -> HttpResponse:
    invitation = invitation_for_token(token)
    if invitation is None:
        return render(request, "accounts/invitation_unusable.html", status=404)
    try:
        invitation_resend(invitation=invitation)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("accounts:login")
    return render(request, "accounts/invitation_resent.html")


@login_required
def home(request: AuthenticatedRequest) -> HttpResponse:
    if request.user.roles == [Role.STUDENT]:
        return redirect("enrolments:my_enrolments")
    return render(request, "accounts/home.html")


@role_required(*PEOPLE_MANAGERS)
def people_list(request: AuthenticatedRequest) -> HttpResponse:
    filters = PeopleFilterForm(request.GET or None)
    users = user_list(**filters.selector_filters())
    return render(
        request,
        "accounts/people_list.html",
        {"page": list_page(request, users), "filters": filters},
    )


@role_required(*PEOPLE_MANAGERS)
def people_invite(request: AuthenticatedRequest) -> HttpResponse:
    form = UserInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = user_invite(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Invitation sent to {user.email}.")
            return redirect("accounts:people_list")
    return render(request, "accounts/people_invite.html", {"form": form})


@role_required(*PEOPLE_MANAGERS)
def people_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(User, pk=pk)
    form = UserRolesForm(request.POST or None, initial={"roles": person.roles})
    if request.method == "POST" and form.is_valid():
        try:
            user_roles_set(user=person, roles=form.cleaned_data["roles"], actor=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Roles of {person} updated.")
            return redirect("accounts:people_detail", pk=person.pk)
    return render(request, "accounts/people_detail.html", {"person": person, "form": form})


@role_required(*PEOPLE_MANAGERS)
def people_set_active(request: AuthenticatedRequest, pk: int, active: bool) -> HttpResponse:
    person = get_object_or_404(User, pk=pk)
    if request.method != "POST":
        return render(
            request, "accounts/people_confirm_active.html", {"person": person, "active": active}
        )
    service = user_reactivate if active else user_deactivate
    try:
        service(user=person, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        verb = "reactivated" if active else "deactivated; their sessions have ended"
        messages.success(request, f"{person} {verb}.")
    return redirect("accounts:people_detail", pk=person.pk)
