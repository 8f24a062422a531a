"""Grading scales: bands of percentage to symbol and grade points, and the pass mark. A
programme is graded on the scale it names, else on the institution's default scale, else (no
scale set up yet) on the built-in scale below, so results can be graded from the first day.
Every write checks academics.manage_catalogue, runs in one transaction and is audited."""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet

from academics.models import Course, GradeBand, GradingScale, Programme
from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from tenants.db import schema_lock

MANAGE = "academics.manage_catalogue"
# The advisory lock (tenants.db.schema_lock) of choosing the default scale: the first scale
# finds no row to lock.
DEFAULT_LOCK = "grading_scale_default"


@dataclass(frozen=True)
class Band:
    min_percentage: Decimal
    symbol: str
    grade_points: Decimal


@dataclass(frozen=True)
class GradeRules:
    """How a percentage is graded: the scale's name, its pass mark and its bands (highest
    first). `scale_id` is None for the built-in scale."""

    name: str
    pass_mark: Decimal
    bands: tuple[Band, ...]
    scale_id: int | None = None

    def band_for(self, score: Decimal) -> Band:
        for band in self.bands:
            if score >= band.min_percentage:
                return band
        return self.bands[-1]

    def passes(self, score: Decimal) -> bool:
        return score >= self.pass_mark


# The scale used until the institution sets up its own: the common South African percentage
# bands, passing at 50%.
BUILT_IN = GradeRules(
    name="Standard percentage scale",
    pass_mark=Decimal("50"),
    bands=(
        Band(Decimal("75"), "A", Decimal("4.00")),
        Band(Decimal("70"), "B", Decimal("3.00")),
        Band(Decimal("60"), "C", Decimal("2.00")),
        Band(Decimal("50"), "D", Decimal("1.00")),
        Band(Decimal("0"), "F", Decimal("0.00")),
    ),
)


def _rules(scale: GradingScale) -> GradeRules:
    bands = sorted(scale.bands.all(), key=lambda band: band.min_percentage, reverse=True)
    return GradeRules(
        name=scale.name,
        pass_mark=scale.pass_mark,
        bands=tuple(Band(b.min_percentage, b.symbol, b.grade_points) for b in bands),
        scale_id=scale.pk,
    )


def grade_rules_for(programme: Programme | None) -> GradeRules:
    """The rules `programme`'s results are graded on: its own scale, the default, or the
    built-in scale."""
    scales = GradingScale.objects.prefetch_related("bands")
    scale = None
    if programme is not None and programme.grading_scale_id is not None:
        scale = scales.filter(pk=programme.grading_scale_id).first()
    if scale is None:
        scale = scales.filter(is_default=True).first()
    return _rules(scale) if scale is not None else BUILT_IN


def grading_scale_list() -> QuerySet[GradingScale]:
    return GradingScale.objects.prefetch_related("bands").annotate(
        programme_count=Count("programmes")
    )


def programmes_with_scales() -> QuerySet[Programme]:
    return Programme.objects.select_related("grading_scale").order_by("code")


def bands_check(bands: list[Band]) -> list[Band]:
    """The bands, highest first, refusing a scale that leaves percentages ungraded (no band
    from 0%), or repeats a start or a symbol."""
    if not bands:
        raise ValidationError("A scale needs at least one band.", code="no_bands")
    starts = [band.min_percentage for band in bands]
    symbols = [band.symbol.strip().upper() for band in bands]
    if len(set(starts)) != len(starts):
        raise ValidationError("Two bands start at the same percentage.", code="band_repeated")
    if len(set(symbols)) != len(symbols):
        raise ValidationError("Two bands have the same symbol.", code="symbol_repeated")
    if min(starts) != 0:
        raise ValidationError(
            "The lowest band must start at 0%, so that every percentage has a grade.",
            code="no_zero_band",
        )
    for band in bands:
        if not 0 <= band.min_percentage <= 100:
            raise ValidationError(
                "A band starts at a percentage from 0 to 100.", code="band_out_of_range"
            )
    ordered = sorted(bands, key=lambda band: band.min_percentage, reverse=True)
    points = [band.grade_points for band in ordered]
    if points != sorted(points, reverse=True):
        raise ValidationError(
            "A higher band cannot give fewer grade points than a lower one.",
            code="points_not_ordered",
        )
    return [Band(b.min_percentage, b.symbol.strip().upper(), b.grade_points) for b in ordered]


def _scale_values(scale: GradingScale) -> dict[str, object]:
    return {
        "name": scale.name,
        "pass_mark": str(scale.pass_mark),
        "is_default": scale.is_default,
        "bands": [
            [str(band.min_percentage), band.symbol, str(band.grade_points)]
            for band in scale.bands.order_by("-min_percentage")
        ],
    }


# The programmes graded on the institution's default scale (or the built-in one).
ON_THE_DEFAULT = Q(grading_scale__isnull=True)


def _open_results_check(programmes: Q, change: str) -> None:
    """Refuse `change` to how `programmes` are graded while one of their runs has results not
    yet moderated: each result's pass or fail was set by the rules at entry, and moderation
    grades by the rules of its day. Runs are reached through the courses' reverse relation
    (academics does not import delivery)."""
    run = (
        Course.objects.filter(
            programme__in=Programme.objects.filter(programmes),
            runs__moderated_at__isnull=True,
            runs__enrollments__assessments__isnull=False,
        )
        .values_list("runs__course_ref", "runs__cohort__name")
        .order_by("runs__course_ref")
        .first()
    )
    if run is not None:
        raise ValidationError(
            "%(change)s while results are waiting for moderation: %(run)s of %(cohort)s has "
            "results not yet moderated. Change it once they are.",
            code="results_not_moderated",
            params={"change": change, "run": run[0], "cohort": run[1]},
        )


def _graded_on(scale: GradingScale) -> Q:
    return Q(grading_scale=scale) | (ON_THE_DEFAULT if scale.is_default else Q(pk__in=[]))


def _bands_write(scale: GradingScale, bands: list[Band]) -> None:
    scale.bands.all().delete()
    GradeBand.objects.bulk_create(
        GradeBand(
            scale=scale,
            min_percentage=band.min_percentage,
            symbol=band.symbol,
            grade_points=band.grade_points,
        )
        for band in bands
    )


def grading_scale_create(
    *,
    actor: User | None,
    name: str,
    pass_mark: Decimal,
    bands: list[Band],
    is_default: bool = False,
) -> GradingScale:
    """A new scale. The first scale of the institution becomes the default."""
    permission_check(actor=actor, action="grading_scale.create", permission=MANAGE)
    bands = bands_check(bands)
    with transaction.atomic(durable=True):
        schema_lock(DEFAULT_LOCK)
        first = not GradingScale.objects.exists()
        if is_default or first:
            _open_results_check(ON_THE_DEFAULT, "The default scale cannot change")
        if is_default:
            GradingScale.objects.filter(is_default=True).update(is_default=False)
        scale = GradingScale(name=name.strip(), pass_mark=pass_mark, is_default=is_default or first)
        scale.full_clean()
        scale.save()
        _bands_write(scale, bands)
        audit_record(
            actor=actor,
            action="grading_scale.created",
            entity=scale,
            new_values=_scale_values(scale),
        )
    return scale


def grading_scale_update(
    *, scale: GradingScale, actor: User | None, name: str, pass_mark: Decimal, bands: list[Band]
) -> GradingScale:
    """Change a scale's name, pass mark and bands. Results already moderated keep the grade
    they were given; new moderations use the new bands."""
    permission_check(actor=actor, action="grading_scale.update", permission=MANAGE)
    bands = bands_check(bands)
    with transaction.atomic(durable=True):
        scale = GradingScale.objects.select_for_update().get(pk=scale.pk)
        before = _rules(scale)
        if before.pass_mark != pass_mark or before.bands != tuple(bands):
            _open_results_check(
                _graded_on(scale), "The pass mark and bands of this scale cannot change"
            )
        old = _scale_values(scale)
        scale.name, scale.pass_mark = name.strip(), pass_mark
        scale.full_clean()
        scale.save(update_fields=["name", "pass_mark", "updated_at"])
        _bands_write(scale, bands)
        audit_record(
            actor=actor,
            action="grading_scale.updated",
            entity=scale,
            old_values=old,
            new_values=_scale_values(scale),
        )
    return scale


def grading_scale_make_default(*, scale: GradingScale, actor: User | None) -> GradingScale:
    """Grade every programme without a scale of its own on `scale`."""
    permission_check(actor=actor, action="grading_scale.make_default", permission=MANAGE)
    with transaction.atomic(durable=True):
        schema_lock(DEFAULT_LOCK)
        previous = GradingScale.objects.select_for_update().filter(is_default=True).first()
        if previous is not None and previous.pk == scale.pk:
            return scale
        _open_results_check(ON_THE_DEFAULT, "The default scale cannot change")
        GradingScale.objects.filter(is_default=True).update(is_default=False)
        scale.is_default = True
        scale.save(update_fields=["is_default", "updated_at"])
        audit_record(
            actor=actor,
            action="grading_scale.made_default",
            entity=scale,
            old_values={"default_scale": previous.name if previous else None},
            new_values={"default_scale": scale.name},
        )
    return scale


def grading_scale_delete(*, scale: GradingScale, actor: User | None) -> None:
    """Delete a scale no programme uses; the default goes last (another is made default
    first)."""
    permission_check(actor=actor, action="grading_scale.delete", permission=MANAGE)
    with transaction.atomic(durable=True):
        scale = GradingScale.objects.select_for_update().get(pk=scale.pk)
        used_by = list(scale.programmes.values_list("code", flat=True)[:5])
        if used_by:
            raise ValidationError(
                "Programmes %(codes)s are graded on this scale: choose another scale for them "
                "first.",
                code="scale_in_use",
                params={"codes": ", ".join(used_by)},
            )
        if scale.is_default and GradingScale.objects.exclude(pk=scale.pk).exists():
            raise ValidationError(
                "This is the default scale: make another scale the default first.",
                code="scale_is_default",
            )
        if scale.is_default:
            _open_results_check(ON_THE_DEFAULT, "The default scale cannot be deleted")
        old = _scale_values(scale)
        audit_record(actor=actor, action="grading_scale.deleted", entity=scale, old_values=old)
        scale.delete()


def programme_grading_scale_set(
    *, programme: Programme, actor: User | None, scale: GradingScale | None
) -> Programme:
    """Grade `programme` on `scale` (None: the institution's default)."""
    permission_check(actor=actor, action="programme.grading_scale", permission=MANAGE)
    with transaction.atomic(durable=True):
        programme = Programme.objects.select_for_update().get(pk=programme.pk)
        if grade_rules_for(programme) != grade_rules_for(
            Programme(grading_scale=scale) if scale else None
        ):
            _open_results_check(Q(pk=programme.pk), "The programme's scale cannot change")
        old = programme.grading_scale.name if programme.grading_scale else None
        programme.grading_scale = scale
        programme.save(update_fields=["grading_scale", "updated_at"])
        audit_record(
            actor=actor,
            action="programme.grading_scale_set",
            entity=programme,
            old_values={"grading_scale": old},
            new_values={"grading_scale": scale.name if scale else None},
        )
    return programme
