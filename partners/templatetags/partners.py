"""`{{ partner|commission_rule }}`: the partner's commission rule in words (partners.rules)."""

from django import template

from partners.models import Partner
from partners.rules import commission_rule_text

register = template.Library()


@register.filter
def commission_rule(partner: Partner) -> str:
    return commission_rule_text(partner)
