"""A page's form as a browser posts it: its named, enabled inputs (radios and checkboxes only
when checked), read from the HTML the test client got."""

from html.parser import HTMLParser


class _FormInputs(HTMLParser):
    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker = marker
        self.values: dict[str, str] = {}
        self.in_form = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form" and (not self.marker or self.marker in found):
            self.in_form = True
            return
        if tag != "input" or not self.in_form or not found.get("name") or "disabled" in found:
            return
        if found.get("type") in ("radio", "checkbox") and "checked" not in found:
            return
        if found.get("type") in ("submit", "button"):
            return
        self.values[str(found["name"])] = found.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.in_form = False


def form_as_posted(html: str, marker: str = "") -> dict[str, str]:
    """The inputs of the page's forms (those carrying the attribute `marker`, when given)."""
    inputs = _FormInputs(marker)
    inputs.feed(html)
    return inputs.values
