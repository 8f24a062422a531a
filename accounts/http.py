"""Requests as the middleware leaves them, for type checking views: Django types
`request.user` as a user or AnonymousUser and knows nothing of the tenant or htmx."""

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from accounts.models import User
from tenants.models import Institution


class SiteRequest(HttpRequest):
    """Any request: django-tenants' middleware sets the institution whose site it is (the
    platform's own on the public site), django-htmx's whether htmx sent it."""

    tenant: Institution
    htmx: HtmxDetails


class AuthenticatedRequest(SiteRequest):
    """A request that permission_required, login_required or the operator check let through."""

    user: User
