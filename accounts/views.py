from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_POST

from accounts.forms import (
    EmailAuthenticationForm,
    InvitationAcceptForm,
    OutboxPasswordResetForm,
    PeopleFilterForm,
    RoleForm,
    UserInviteForm,
    UserRolesForm,
)
from accounts.home import home_panels_for
from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.models import Role, SystemRole, User
from accounts.permissions import permission_required
from accounts.roles import required_codes
from accounts.security import lockout_end, lockout_length, lockout_warning
from accounts.selectors import (
    account_purge_date,
    account_purge_days,
    invitation_for_token,
    person_access,
    role_for_page,
    role_list,
    role_permission_codes,
    user_list,
)
from accounts.services import (
    invitation_accept,
    invitation_refusal,
    invitation_resend,
    role_create,
    role_delete,
    role_update,
    user_deactivate,
    user_delete,
    user_invite,
    user_password_change,
    user_reactivate,
    user_restore,
    user_roles_set,
)


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        """With the warning before the attempt that would lock the account out."""
        return super().get_context_data(**kwargs) | {
            "lockout_warning": lockout_warning(self.request)
        }


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials=None
) -> HttpResponse:
    """The page django-axes shows instead of signing in (AXES_LOCKOUT_CALLABLE): how long the
    lock lasts and when it ends."""
    return render(
        request,
        "accounts/locked_out.html",
        {
            "lockout_length": lockout_length(request),
            "lockout_end": lockout_end(request),
            "restarts": settings.AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT,
        },
        status=429,  # Too Many Requests, as axes' own page answers
    )


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    form_class = OutboxPasswordResetForm
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def get_user(self, uidb64):
        """A link sent before the account was deleted leads nowhere."""
        user = super().get_user(uidb64)
        return None if user is None or user.is_deleted else user

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
    # Whatever the link's own state, one that leads nowhere says so (and offers no new link).
    refusal = invitation_refusal(invitation.user) if invitation is not None else ""
    if invitation is None or not invitation.is_usable or refusal:
        return render(
            request,
            "accounts/invitation_unusable.html",
            {"invitation": invitation, "token": token, "refusal": refusal},
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
            login(request, user, backend="accounts.backends.RoleBackend")
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
    if not request.user.permission_codes and SystemRole.STUDENT in request.user.role_keys:
        return redirect("enrolments:my_enrolments")
    panels = home_panels_for(request.user)
    return render(
        request,
        "accounts/home.html",
        {
            "wide_panels": [panel for panel in panels if panel.wide],
            "card_panels": [panel for panel in panels if not panel.wide],
        },
    )


@permission_required("accounts.manage_people")
def people_list(request: AuthenticatedRequest) -> HttpResponse:
    filters = PeopleFilterForm(request.GET or None)
    users = user_list(**filters.selector_filters())
    return render(
        request,
        "accounts/people_list.html",
        {"page": list_page(request, users), "filters": filters},
    )


@permission_required("accounts.manage_people")
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


def _person(pk: int) -> User:
    """A person the People pages show: anyone but an anonymised account."""
    return get_object_or_404(User, pk=pk, anonymised_at__isnull=True)


@permission_required("accounts.manage_people")
def people_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    person = _person(pk)
    form = UserRolesForm(request.POST or None, initial={"roles": list(person.roles.all())})
    if request.method == "POST" and form.is_valid():
        try:
            user_roles_set(user=person, roles=form.cleaned_data["roles"], actor=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Roles of {person} updated.")
            return redirect("accounts:people_detail", pk=person.pk)
    return render(
        request,
        "accounts/people_detail.html",
        {"person": person, "form": form, "purge_date": account_purge_date(person)},
    )


@permission_required("accounts.manage_people")
def people_set_active(request: AuthenticatedRequest, pk: int, active: bool) -> HttpResponse:
    person = _person(pk)
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


@permission_required("accounts.manage_people")
def people_delete(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Delete a person's account, after a page saying what happens and when."""
    person = _person(pk)
    if request.method != "POST":
        return render(
            request,
            "accounts/people_confirm_delete.html",
            {"person": person, "purge_days": account_purge_days()},
        )
    try:
        deleted = user_delete(user=person, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("accounts:people_detail", pk=person.pk)
    purge_date = date_format(timezone.localtime(account_purge_date(deleted)), "j M Y")
    messages.success(request, f"{person} deleted; they can be restored until {purge_date}.")
    return redirect(f"{reverse('accounts:people_list')}?status=deleted")


@permission_required("accounts.manage_people")
def people_restore(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    person = _person(pk)
    if request.method != "POST":
        return render(
            request,
            "accounts/people_confirm_restore.html",
            {"person": person, "purge_date": account_purge_date(person)},
        )
    try:
        user_restore(user=person, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{person} restored: they can sign in again.")
    return redirect("accounts:people_detail", pk=person.pk)


@permission_required("accounts.manage_people", "accounts.manage_roles")
def people_access(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """What one person may do and why: which role gives each permission, and where they work."""
    person = _person(pk)
    return render(
        request, "accounts/people_access.html", {"person": person, "access": person_access(person)}
    )


@permission_required("accounts.manage_people", "accounts.manage_roles")
def roles(request: AuthenticatedRequest) -> HttpResponse:
    return render(request, "accounts/role_list.html", {"roles": role_list()})


def _role(pk: int) -> Role:
    try:
        return role_for_page(pk)
    except Role.DoesNotExist as missing:
        raise Http404 from missing


@permission_required("accounts.manage_people", "accounts.manage_roles")
def role_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    role = _role(pk)
    codes = role_permission_codes(role)
    form = RoleForm(initial={"permissions": sorted(codes)})
    areas = [
        (area, entries)
        for area, entries in form.area_choices()
        if any(entry["checked"] for entry in entries)
    ]
    return render(
        request, "accounts/role_detail.html", {"role": role, "areas": areas, "allows": codes}
    )


@permission_required("accounts.manage_roles")
def role_edit(request: AuthenticatedRequest, pk: int | None = None) -> HttpResponse:
    """Create a custom role, or change one (a system role: only what it may do beyond what the
    product needs)."""
    role = _role(pk) if pk else None
    required = required_codes(role.key) if role and role.key else frozenset()
    initial = {}
    if role is not None:
        initial = {
            "name": role.name,
            "description": role.description,
            "permissions": sorted(role_permission_codes(role)),
        }
    form = RoleForm(request.POST or None, initial=initial, role=role, required=required)
    if request.method == "POST" and form.is_valid():
        values = {
            "name": form.cleaned_data["name"],
            "description": form.cleaned_data["description"],
            "permission_codes": form.cleaned_data["permissions"],
        }
        try:
            if role is None:
                role = role_create(actor=request.user, **values)
            else:
                role = role_update(actor=request.user, role=role, **values)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Role {role.name} saved.")
            return redirect("accounts:role_detail", pk=role.pk)
    return render(request, "accounts/role_form.html", {"form": form, "role": role})


@permission_required("accounts.manage_roles")
def role_delete_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    role = _role(pk)
    if request.method != "POST":
        return render(request, "accounts/role_confirm_delete.html", {"role": role})
    try:
        role_delete(actor=request.user, role=role)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("accounts:role_detail", pk=role.pk)
    messages.success(request, f"Role {role.name} deleted.")
    return redirect("accounts:roles")
