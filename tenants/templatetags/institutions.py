from django import template

from tenants.models import Institution
from tenants.sites import institution_url, site_url

register = template.Library()


@register.filter(name="institution_url")
def institution_url_filter(institution: Institution) -> str:
    return institution_url(institution)


@register.filter(name="domain_url")
def domain_url_filter(domain: str) -> str:
    """The address of the site at host name `domain`, with the platform's scheme and port."""
    return site_url(domain)
