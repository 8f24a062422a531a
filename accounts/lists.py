"""What every list page shares: its filter form bound to the query string and its pages.

A list view reads `filters = SomeFilterForm(request.GET or None)`, passes
`filters.selector_filters()` to its selector and renders `list_page(request, items)`; the
page's links keep the filters, so that page 2 of a filtered list is still filtered.
"""

from collections.abc import Sequence
from typing import Any, ClassVar, TypeVar

from django import forms
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.forms.utils import pretty_name
from django.http import HttpRequest
from django.utils.http import urlencode

# Rows per page: ordinary lists, and the dense logs (audit trail, sync jobs) read row by row.
PAGE_SIZE = 25
LOG_PAGE_SIZE = 50

_T = TypeVar("_T")


class ListPage(Page[_T]):
    """A page that knows the filters it was drawn with: `query` is the query string without
    the page number and without empty fields, for the page links; `filtered` says whether any
    filter was given, so that an empty page can say "nothing matches" rather than "nothing
    yet"."""

    def __init__(self, page: Page[_T], *, query: str) -> None:
        super().__init__(page.object_list, page.number, page.paginator)
        self.query = query

    @property
    def filtered(self) -> bool:
        return bool(self.query)


def list_page(
    request: HttpRequest,
    items: QuerySet[Any, _T] | Sequence[_T],
    *,
    per_page: int | None = None,
) -> ListPage[_T]:
    """The page the query string asks for, of `per_page` rows (PAGE_SIZE unless given): the
    first for a missing or non-numeric number, the last for one past the end, an empty first
    page for an empty list."""
    filters = [
        (name, value)
        for name, values in request.GET.lists()
        if name != "page"
        for value in values
        if value.strip()
    ]
    page = Paginator(items, per_page or PAGE_SIZE).get_page(request.GET.get("page"))
    return ListPage(page, query=urlencode(filters))


class FilterForm(forms.Form):
    """A list's filters, bound to the query string (`request.GET or None`) and styled for the
    filter bar above the list. `selector_filters()` hands the chosen values to the selector."""

    # Field names that differ from the selector's keyword: the search box is `q` in every
    # address and `search` in every selector.
    selector_names: ClassVar[dict[str, str]] = {"q": "search"}
    # "sm" for the small controls of the dense log pages.
    control_size: ClassVar[str] = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            base = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            size = f" {base}-{self.control_size}" if self.control_size else ""
            field.widget.attrs.setdefault("class", base + size)
            field.widget.attrs.setdefault("aria-label", field.label or pretty_name(name))

    def selector_filters(self) -> dict[str, Any]:
        """The filters given a value, as the selector's keyword arguments; none when the form
        is unbound or invalid (its errors show, and the list is not filtered)."""
        if not self.is_bound or not self.is_valid():
            return {}
        return {
            self.selector_names.get(name, name): value
            for name, value in self.cleaned_data.items()
            if value not in (None, "")
        }
