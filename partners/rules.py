"""A partner's commission rule in words, as its page, its statements and its contacts read it:
"10% of the learner's fee on each enrolment that starts", "R750,00 for each placement
confirmed", "No commission"."""

from decimal import Decimal

from academics.currencies import money_text
from partners.models import CommissionBasis, CommissionTrigger, Partner

_EACH = {
    CommissionTrigger.ENROLMENT: "each enrolment that starts",
    CommissionTrigger.PLACEMENT: "each placement confirmed",
}


def percent_text(value: Decimal) -> str:
    """12.50 as "12,5%", 10.00 as "10%" (the decimal comma, as amounts are written)."""
    text = f"{value.normalize():f}".replace(".", ",")
    return f"{text}%"


def commission_rule_text(partner: Partner) -> str:
    if partner.commission_trigger == CommissionTrigger.NONE:
        return "No commission"
    each = _EACH[CommissionTrigger(partner.commission_trigger)]
    if partner.commission_basis == CommissionBasis.PERCENT_OF_FEE:
        return f"{percent_text(partner.commission_value)} of the learner's fee on {each}"
    return f"{money_text(partner.commission_value, partner.currency)} for {each}"
