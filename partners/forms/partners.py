"""The partners' forms: the list's filters, a partner's details (the kind only when adding),
the search for learners to add as candidates, choosing who brought a learner, and inviting a
contact. The forms parse each field; partners.services check the whole (a code taken, a
percentage over 100, a partner of the wrong kind)."""

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import fields_for_model

from accounts.lists import FilterForm
from partners.models import Partner, PartnerKind
from partners.selectors.partners import ACTIVE_CHOICES, partners_to_choose
from partners.services.partners import DETAIL_FIELDS


class FormRefusals(forms.Form):
    def refusal_show(self, error: ValidationError) -> None:
        """A service's refusal, each message beside the field it names (above the form
        otherwise)."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for name, errors in error.error_dict.items():
            self.add_error(name if name in self.fields else None, errors)


class PartnerFilterForm(FilterForm):
    q = forms.CharField(label="Search", required=False, max_length=100)
    kind = forms.ChoiceField(
        label="Kind", required=False, choices=[("", "Agents and brokers"), *PartnerKind.choices]
    )
    active = forms.ChoiceField(
        label="Active", required=False, choices=[("", "Active or not"), *ACTIVE_CHOICES]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = "Name, code or contact person"


class PartnerForm(FormRefusals):
    """A partner's details, terms and commission rule; `partner` None adds one (and asks its
    kind)."""

    kind = forms.ChoiceField(
        choices=PartnerKind.choices,
        widget=forms.RadioSelect,
        help_text="An agent recruits candidates; a broker places them with employers. It cannot "
        "change later.",
    )

    def __init__(self, *args: Any, partner: Partner | None = None, **kwargs: Any) -> None:
        if partner is not None:
            kwargs.setdefault("initial", {name: getattr(partner, name) for name in DETAIL_FIELDS})
        super().__init__(*args, **kwargs)
        self.fields.update(fields_for_model(Partner, fields=DETAIL_FIELDS))
        if partner is not None:
            del self.fields["kind"]
        self.fields["code"].help_text = (
            "Capital letters, digits and hyphens, e.g. AG-001; unique in the institution and "
            "quoted on statements and payouts."
        )
        self.fields["code"].widget.attrs["autocapitalize"] = "characters"
        self.fields["address"].widget.attrs["rows"] = 3
        self.fields["commission_trigger"].label = "What earns commission"
        self.fields["commission_basis"].label = "Commission is"
        self.fields["commission_value"].label = "Percentage or amount"
        self.fields["email"].label = "E-mail address"
        for name in ("name", "code"):
            self.fields[name].required = True

    def clean_code(self) -> str:
        # Capitals are the rule: "ag-001" is AG-001.
        return "".join(cast(str, self.cleaned_data["code"]).split()).upper()

    def service_arguments(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class CandidateSearchForm(forms.Form):
    q = forms.CharField(
        label="Learner's name or e-mail address",
        max_length=100,
        help_text="Learners already registered; register a new learner on the Learners page.",
    )


class PartnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        partner = cast(Partner, obj)
        return f"{partner.name} ({partner.code}){'' if partner.is_active else ' (deactivated)'}"


class IntroductionForm(FormRefusals):
    agent = PartnerChoiceField(
        queryset=Partner.objects.none(),
        required=False,
        empty_label="No agent (not known)",
        help_text="The recruiting agent who brought the learner: earns commission by its rule.",
    )
    broker = PartnerChoiceField(
        queryset=Partner.objects.none(),
        required=False,
        empty_label="No broker (not known)",
        help_text="The broker who places the learner with an employer.",
    )

    def __init__(
        self, *args: Any, agent: Partner | None = None, broker: Partner | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(PartnerChoiceField, self.fields["agent"]).queryset = partners_to_choose(
            PartnerKind.AGENT, agent
        )
        cast(PartnerChoiceField, self.fields["broker"]).queryset = partners_to_choose(
            PartnerKind.BROKER, broker
        )


class ContactInviteForm(FormRefusals):
    email = forms.EmailField(
        label="E-mail address",
        help_text="They are e-mailed a link to set their password; an existing account is given "
        "the partner's role instead.",
    )
    full_name = forms.CharField(
        label="Full name",
        max_length=150,
        required=False,
        help_text="Needed when the address has no account yet.",
    )
