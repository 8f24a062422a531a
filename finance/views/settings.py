"""The institution's finance settings: seen by finance.view_finance, changed only by
finance.manage_finance (admins see them read-only)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from accounts.http import AuthenticatedRequest
from accounts.permissions import permission_check, permission_required
from finance.access import MANAGE_FINANCE, VIEW_FINANCE
from finance.forms.settings import FinanceSettingsForm
from finance.selectors.settings import finance_settings_current
from finance.services.settings import finance_settings_update


@permission_required(VIEW_FINANCE)
@never_cache
def finance_settings(request: AuthenticatedRequest) -> HttpResponse:
    current = finance_settings_current()
    may_manage = request.user.may(MANAGE_FINANCE)
    if request.method == "POST":
        # Admins read the settings; a change from them is refused (the audited 404).
        permission_check(
            actor=request.user, action="finance_settings.update", permission=MANAGE_FINANCE
        )
    form = FinanceSettingsForm(
        request.POST if request.method == "POST" and may_manage else None, instance=current
    )
    if request.method == "POST" and may_manage and form.is_valid():
        try:
            finance_settings_update(actor=request.user, **form.service_arguments())
        except ValidationError as error:
            for name, errors in getattr(error, "error_dict", {None: error.error_list}).items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            messages.success(request, "The finance settings are saved.")
            return redirect("finance:settings")
    if not may_manage:
        for field in form.fields.values():
            field.disabled = True
    return render(
        request,
        "finance/settings/form.html",
        {"form": form, "may_manage": may_manage, "saved": bool(current.updated_at)},
        status=400 if form.is_bound and form.errors else 200,
    )
