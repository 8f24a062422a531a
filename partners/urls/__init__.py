"""Partners' pages: agents and brokers and who they brought, their bank details, and the
portal where a partner's contact follows their own candidates."""

from partners.urls import bank, partners, portal

app_name = "partners"

urlpatterns = [*partners.urlpatterns, *bank.urlpatterns, *portal.urlpatterns]
