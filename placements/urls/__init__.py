"""Placements' pages, one module per area: organisations, organisation members (their pages,
preferences and the subject tree), the distance search with matching and urgent requests,
vetting, and placements themselves."""

from placements.urls import members, organisations, placements, search, vetting

app_name = "placements"

urlpatterns = [
    *organisations.urlpatterns,
    *members.urlpatterns,
    *search.urlpatterns,
    *vetting.urlpatterns,
    *placements.urlpatterns,
]
