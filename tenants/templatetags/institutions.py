from django import template

from tenants.models import Institution
from tenants.sites import institution_url

register = template.Library()


@register.filter(name="institution_url")
def institution_url_filter(institution: Institution) -> str:
    return institution_url(institution)
