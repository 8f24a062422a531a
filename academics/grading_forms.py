"""The grading scale form: the name and pass mark, and the bands as rows of a formset (blank
rows are ignored)."""

from decimal import Decimal

from django import forms

from academics.grading import Band
from academics.models import GradingScale


class GradingScaleForm(forms.Form):
    name = forms.CharField(max_length=100)
    pass_mark = forms.DecimalField(
        min_value=0,
        max_value=100,
        decimal_places=2,
        initial=Decimal("50"),
        help_text="The lowest percentage that passes.",
    )


class BandForm(forms.Form):
    min_percentage = forms.DecimalField(
        label="From %", min_value=0, max_value=100, decimal_places=2, required=False
    )
    symbol = forms.CharField(max_length=5, required=False)
    grade_points = forms.DecimalField(
        label="Grade points", min_value=0, max_digits=3, decimal_places=2, required=False
    )

    def clean(self) -> dict:
        data = super().clean() or {}
        values = [data.get("min_percentage"), data.get("symbol"), data.get("grade_points")]
        if any(value not in (None, "") for value in values) and any(
            value in (None, "") for value in values
        ):
            raise forms.ValidationError("Fill in the band's start, symbol and grade points.")
        return data

    @property
    def band(self) -> Band | None:
        data = self.cleaned_data
        if data.get("symbol"):
            return Band(data["min_percentage"], data["symbol"], data["grade_points"])
        return None


BandFormSet = forms.formset_factory(BandForm, extra=2, max_num=20)


def bands_initial(scale: GradingScale | None, default: tuple[Band, ...]) -> list[dict]:
    bands = (
        [Band(b.min_percentage, b.symbol, b.grade_points) for b in scale.bands.all()]
        if scale is not None
        else list(default)
    )
    return [
        {"min_percentage": b.min_percentage, "symbol": b.symbol, "grade_points": b.grade_points}
        for b in sorted(bands, key=lambda band: band.min_percentage, reverse=True)
    ]


class ProgrammeScaleForm(forms.Form):
    grading_scale = forms.ModelChoiceField(
        queryset=GradingScale.objects.all(),
        required=False,
        empty_label="The default scale",
        label="Grading scale",
    )
