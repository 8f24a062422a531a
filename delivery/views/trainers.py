"""The trainers' pages, for those who manage delivery: the list, a trainer's page with their runs
and sessions, and the form that adds or edits one."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache

from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_check, permission_required
from delivery.forms.runs import TrainerFilterForm, TrainerForm
from delivery.models import Trainer
from delivery.selectors.runs import trainer_list, trainer_runs
from delivery.selectors.sessions import month_of, month_start, trainer_sessions
from delivery.services.trainers import may_add_trainers, trainer_create, trainer_update

MANAGE = "delivery.manage_delivery"


@permission_required(MANAGE)
def trainers(request: AuthenticatedRequest) -> HttpResponse:
    filters = TrainerFilterForm(request.GET or None)
    return render(
        request,
        "delivery/trainers/trainer_list.html",
        {
            "filters": filters,
            "may_add": may_add_trainers(request.user),
            "page": list_page(
                request, trainer_list(user=request.user, **filters.selector_filters())
            ),
        },
    )


@permission_required(MANAGE)
def trainer_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    trainer = get_object_or_404(Trainer.objects.select_related("user"), pk=pk)
    return render(
        request,
        "delivery/trainers/trainer_detail.html",
        {
            "trainer": trainer,
            "runs": trainer_runs(trainer, user=request.user),
            "month": month_of(
                trainer_sessions(trainer, user=request.user),
                month_start(request.GET.get("month")),
            ),
        },
    )


@permission_required(MANAGE)
@never_cache
def trainer_form(request: AuthenticatedRequest, pk: int | None = None) -> HttpResponse:
    trainer = get_object_or_404(Trainer, pk=pk) if pk else None
    if trainer is None:
        permission_check(
            actor=request.user,
            action="view:delivery.trainer_create",
            allowed=may_add_trainers(request.user),
        )
    form = TrainerForm(request.POST if request.method == "POST" else None, instance=trainer)
    if request.method == "POST" and form.is_valid():
        try:
            if trainer is None:
                trainer = trainer_create(
                    actor=request.user, email=form.cleaned_data["email"], details=form.details()
                )
                messages.success(request, f"{trainer} is a trainer now.")
            else:
                trainer_update(actor=request.user, trainer=trainer, details=form.details())
                messages.success(request, "Trainer saved.")
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("delivery:trainer", trainer.pk)
    return render(
        request,
        "delivery/trainers/trainer_form.html",
        {"form": form, "trainer": trainer},
    )
