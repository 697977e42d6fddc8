"""What a person sees and sends: forms parsed from pages, their text, errors and flashes, and
the session form filled in as a nurse would."""

from __future__ import annotations

import html
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from urllib.parse import urlsplit

from carelog.local_time import home_zone

PICK_A_RATING = "Choose a rating, or say why there is none."


ALREADY_SAVED = "This session was already saved; nothing was added twice."


FIVE_RATINGS = (
    "relaxation_before",
    "mood_before",
    "sleep_before",
    "relaxation_after",
    "mood_after",
)


LOCAL_MINUTE = "%Y-%m-%dT%H:%M"


@dataclass
class PageForm:
    """One <form> on a page: where it posts and the controls it holds."""

    action: str
    attrs: dict
    controls: list[dict] = field(default_factory=list)

    def value(self, name: str) -> str | None:
        """The value a browser would send for a text, hidden or select control (None if absent);
        several controls of one name (a day and a time) are joined by a space, as WTForms does."""
        values = [
            control.get("value", "")
            for control in self.controls
            if control.get("name") == name and control.get("type") not in ("radio", "checkbox")
        ]
        return " ".join(values) if values else None

    def checked(self, name: str) -> list[str]:
        """The values of the ticked radio buttons or checkboxes with this name."""
        return [
            c.get("value", "on")
            for c in self.controls
            if c.get("name") == name and c.get("type") in ("radio", "checkbox") and "checked" in c
        ]

    def options(self, name: str) -> list[str]:
        """Every value offered by the radio buttons or checkboxes with this name."""
        return [c.get("value") for c in self.controls if c.get("name") == name and "value" in c]

    def names(self) -> set[str]:
        """The names of all controls in the form."""
        return {c["name"] for c in self.controls if c.get("name")}


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[PageForm] = []
        self._current: PageForm | None = None
        self._textarea: dict | None = None
        self._select: dict | None = None

    def handle_starttag(self, tag, attrs):
        attributes = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._current = PageForm(attributes.get("action", ""), attributes)
            self.forms.append(self._current)
        elif self._current is not None and tag in ("input", "select", "button"):
            attributes.setdefault("type", "text" if tag == "input" else tag)
            self._current.controls.append(attributes)
            if tag == "select":
                self._select = attributes
        elif self._select is not None and tag == "option":
            # The selected option is what the browser sends; without one, the first.
            if "selected" in attributes or "value" not in self._select:
                self._select["value"] = attributes.get("value", "")
        elif self._current is not None and tag == "textarea":
            self._textarea = {**attributes, "type": "textarea", "value": ""}
            self._current.controls.append(self._textarea)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea["value"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def forms_on(page: str) -> list[PageForm]:
    """Every form on a page."""
    parser = _FormParser()
    parser.feed(page)
    return parser.forms


def form_posting_to(page: str, action: str) -> PageForm:
    """The one form on the page that posts to `action`."""
    found = [f for f in forms_on(page) if f.action == action]
    assert len(found) == 1, f"expected one form posting to {action}, found {len(found)}"
    return found[0]


def text(response_or_page) -> str:
    """A page as the reader sees it: tags dropped, entities decoded, spaces collapsed."""
    page = (
        response_or_page
        if isinstance(response_or_page, str)
        else response_or_page.get_data(as_text=True)
    )
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page))).strip()


def field_errors(page: str, field_id: str) -> list[str]:
    """The error messages shown next to a form field."""
    pattern = rf'<p class="error" id="{re.escape(field_id)}-error">(.*?)</p>'
    return [html.unescape(m).strip() for m in re.findall(pattern, page, re.S)]


def flashes(page: str, category: str | None = None) -> list[str]:
    """The flash messages on a page, optionally of one category (success, info, error)."""
    wanted = re.escape(category) if category else r"[a-z]+"
    pattern = rf'<p class="flash flash-{wanted}"[^>]*>(.*?)</p>'
    return [text(m) for m in re.findall(pattern, page, re.S)]


def location(response) -> tuple[str, str]:
    """The path and query a redirect points to."""
    parts = urlsplit(response.headers["Location"])
    return parts.path, parts.query


def session_url(resident_id: int) -> str:
    """Where the full session form lives and posts."""
    return f"/residents/{resident_id}/session"


def open_session_form(staff, resident_id: int) -> tuple[str, PageForm]:
    """GET the session page; return it and its full-session form."""
    response = staff.get(session_url(resident_id))
    assert response.status_code == 200, response.status_code
    page = response.get_data(as_text=True)
    return page, form_posting_to(page, session_url(resident_id))


# A complete full session's answers as a nurse gives them (the key, time and product aside).
FULL_ANSWERS = {
    "precautions_confirmed": "y",
    "relaxation_before": "3",
    "relaxation_before_rater": "self",
    "mood_before": "2",
    "mood_before_rater": "self",
    "sleep_before": "6",
    "sleep_before_rater": "observer",
    "duration_minutes": "10",
    "relaxation_after": "7",
    "relaxation_after_rater": "self",
    "mood_after": "4",
    "mood_after_rater": "self",
    "hands": "both",
    "pressure": "light",
    "assent": "agreed",
    "outcome": "completed",
    "note": "Talked about her garden; hands warm afterwards.",
}


def full_session(staff, resident_id: int, **changes) -> dict:
    """A complete, valid full-session payload, with the key and CSRF token read from the page.

    Keyword arguments replace answers; None leaves a field out, as a browser would.
    """
    response = staff.get(session_url(resident_id))
    assert response.status_code == 200, response.status_code
    page = response.get_data(as_text=True)
    forms = [f for f in forms_on(page) if f.action == session_url(resident_id)]
    if forms:
        [form] = forms
        page_values = {k: form.value(k) for k in ("csrf_token", "submission_key", "occurred_at")}
        page_values["product"] = form.value("product")
    else:
        # The page offers a nurse no session form (a resident who must not be massaged): what a
        # client that ignores the page would send anyway.
        declined = form_posting_to(page, f"{session_url(resident_id)}/declined")
        page_values = {
            "csrf_token": declined.value("csrf_token"),
            "submission_key": str(uuid.uuid4()),
            "occurred_at": local_minute(staff.application, datetime.now(UTC)),
            "product": "Own fragrance-free emollient",
        }
    data = {**page_values, **FULL_ANSWERS}
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def quick_form(staff, resident_id: int, which: str) -> dict:
    """The CSRF token and key of the page's 'declined' or 'not-done' form."""
    response = staff.get(session_url(resident_id))
    assert response.status_code == 200, response.status_code
    form = form_posting_to(response.get_data(as_text=True), f"{session_url(resident_id)}/{which}")
    return {"csrf_token": form.value("csrf_token"), "submission_key": form.value("submission_key")}


def local_minute(app, moment: datetime) -> str:
    """A time as the datetime-local control sends it, in the home's zone."""
    with app.app_context():
        return moment.astimezone(home_zone()).strftime(LOCAL_MINUTE)


def from_local_minute(app, value: str) -> datetime:
    """The aware time a datetime-local value stands for, in the home's zone."""
    with app.app_context():
        return datetime.strptime(value.replace(" ", "T"), LOCAL_MINUTE).replace(tzinfo=home_zone())


def board_rows(page: str) -> dict[int, str]:
    """Each resident's line on the ward board, as read, keyed by resident id."""
    rows = {}
    for chunk in re.findall(r'<li class="board-row[^"]*"[^>]*>(.*?)</li>', page, re.S):
        match = re.search(r'href="/residents/(\d+)(?:/session)?"', chunk)
        assert match, chunk
        rows[int(match.group(1))] = text(chunk)
    return rows
