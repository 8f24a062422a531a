"""The paging and filter form shared by the list pages (accounts.lists) and their table
template."""

from django import forms
from django.template.loader import render_to_string
from django.test import RequestFactory

from accounts.lists import FilterForm, list_page

ROWS = list(range(1, 8))  # seven rows: pages of three are 1-3, 4-6 and 7


def _page(query: dict, rows=ROWS, per_page: int = 3):
    return list_page(RequestFactory().get("/things/", query), rows, per_page=per_page)


def test_a_page_past_the_end_gives_the_last_page():
    page = _page({"page": "99"})
    assert page.number == 3
    assert list(page) == [7]


def test_a_page_that_is_not_a_number_gives_the_first():
    for number in ("two", "", "-1.5"):
        assert list(_page({"page": number})) == [1, 2, 3], number
    assert list(_page({})) == [1, 2, 3]


def test_an_empty_list_gives_an_empty_first_page_that_is_not_filtered():
    page = _page({"page": "4"}, rows=[])
    assert page.number == 1
    assert list(page) == []
    assert not page.filtered


def test_the_page_links_keep_the_filters_and_drop_the_empty_ones():
    page = _page({"q": "Thandi & Sipho", "status": "", "role": ["admin", "trainer"], "page": "2"})

    assert page.query == "q=Thandi+%26+Sipho&role=admin&role=trainer"
    assert page.filtered
    links = render_to_string("components/pagination.html", {"page": page})
    assert 'href="?q=Thandi+%26+Sipho&amp;role=admin&amp;role=trainer&amp;page=1"' in links
    assert 'href="?q=Thandi+%26+Sipho&amp;role=admin&amp;role=trainer&amp;page=3"' in links


def test_an_unfiltered_list_links_to_its_pages_alone():
    page = _page({"page": "2", "q": " "})
    assert not page.filtered
    assert 'href="?page=3"' in render_to_string("components/pagination.html", {"page": page})


class ThingFilterForm(FilterForm):
    selector_names = {**FilterForm.selector_names, "older": "older_than_days"}

    q = forms.CharField(required=False)
    kind = forms.ChoiceField(required=False, choices=[("", "Any kind"), ("a", "A"), ("b", "B")])
    older = forms.IntegerField(required=False, min_value=1)


def test_a_filter_form_gives_its_selector_the_chosen_values_under_the_selectors_names():
    form = ThingFilterForm({"q": "  nomsa ", "kind": "", "older": "3", "page": "2"})
    assert form.selector_filters() == {"search": "nomsa", "older_than_days": 3}


def test_an_unbound_or_invalid_filter_form_filters_nothing():
    assert ThingFilterForm(None).selector_filters() == {}
    invalid = ThingFilterForm({"q": "nomsa", "kind": "z"})
    assert invalid.selector_filters() == {}
    assert "kind" in invalid.errors


def test_every_filter_field_is_styled_and_named_for_screen_readers():
    form = ThingFilterForm()
    assert form.fields["kind"].widget.attrs == {"class": "form-select", "aria-label": "Kind"}
    assert form.fields["q"].widget.attrs["class"] == "form-control"

    class SmallFilterForm(ThingFilterForm):
        control_size = "sm"

    small = SmallFilterForm()
    assert small.fields["kind"].widget.attrs["class"] == "form-select form-select-sm"
    assert small.fields["older"].widget.attrs["class"] == "form-control form-control-sm"
