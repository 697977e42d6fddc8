"""A resident's page as of a past day shows the record as it stood then: room, precautions,
plan, photo, ward and the consent decisions known by then; today's page shows today's."""

from __future__ import annotations

from datetime import timedelta

import pytest

from carelog.residents import photos, records
from tests.helpers.pages import text
from tests.helpers.records import (
    actor,
    audit_entries,
    consent_valid,
    local_time,
    nurse_ward,
    plain_residents,
    record_given,
    refuses_from,
    today,
)
from tests.test_photos import photo_bytes


def a_consenting_resident(app):
    return next(p for p in plain_residents(app, nurse_ward(app)) if consent_valid(app, p))


def test_the_page_as_of_yesterday_shows_yesterdays_record(app, signed_in):
    person = a_consenting_resident(app)
    manager = actor(app, "manager")
    with app.app_context():
        records.update(
            manager,
            person.id,
            {"room": "Z99", "allergies": "Sesame oil", "light_pressure_only": True,
             "plan_likes": "Radio 4 in the afternoon"},
            "Moved to a quieter room",
        )  # fmt: skip
        photo_id = photos.add_photo(manager, person.id, photo_bytes(), "resident", "Agreed")
    refuses_from(app, person.id, today(app))
    reader = signed_in("nurse")
    yesterday = today(app) - timedelta(days=1)

    then = reader.get(f"/residents/{person.id}?as_of={yesterday.isoformat()}")
    assert then.status_code == 200
    page = text(then)
    assert "The record as it stood at the end of" in page
    assert person.room in page
    assert "Z99" not in page and "Sesame oil" not in page and "Radio 4" not in page
    assert "Light pressure" not in page and "Does not consent" not in page
    assert "Consents to hand massage" in page
    assert f"photo?v={photo_id}" not in then.get_data(as_text=True)

    now = text(reader.get(f"/residents/{person.id}"))
    assert "Z99" in now and "Sesame oil" in now and "Radio 4" in now
    assert "Does not consent" in now
    assert f"photo?v={photo_id}" in reader.get(f"/residents/{person.id}").get_data(as_text=True)

    pages = [e.new["page"] for e in audit_entries(app, "resident.view", person.id)]
    assert f"details as of {yesterday.isoformat()}" in pages and "details" in pages


@pytest.mark.parametrize(
    ("as_of", "words"),
    [
        ("tomorrow", "on a past day, or today"),
        ("before-admission", "was admitted on"),
        ("2026-02-30", "Give a date"),
        ("yesterday-ish", "Give a date"),
    ],
)
def test_a_day_the_record_cannot_show_is_refused_in_words(app, signed_in, as_of, words):
    person = a_consenting_resident(app)
    day = {
        "tomorrow": (today(app) + timedelta(days=1)).isoformat(),
        "before-admission": (person.admitted_on - timedelta(days=1)).isoformat(),
    }.get(as_of, as_of)
    response = signed_in("manager").get(f"/residents/{person.id}?as_of={day}")
    assert response.status_code == 400
    assert words in text(response)


def test_an_earlier_photo_is_served_for_its_own_resident_to_readers_of_history(app, signed_in):
    first, second = plain_residents(app, nurse_ward(app))[:2]
    manager = actor(app, "manager")
    with app.app_context():
        old = photos.add_photo(manager, first.id, photo_bytes(), "resident", "Agreed")
        photos.add_photo(manager, first.id, photo_bytes((900, 900)), "resident", "A better one")
    reader = signed_in("manager")
    assert reader.get(f"/residents/{first.id}/photo?v={old}").status_code == 200
    assert reader.get(f"/residents/{second.id}/photo?v={old}").status_code == 404
    assert reader.get(f"/residents/{first.id}/photo?v=%C2%B2").status_code == 404  # "²"
    # A photo no longer shown (it may have been taken down) is not for the ward's nurses.
    assert signed_in("nurse").get(f"/residents/{first.id}/photo?v={old}").status_code == 404


def test_a_session_shows_the_resident_as_they_were_when_it_was_given(app, signed_in):
    """A session given yesterday morning, then the room, precautions, communication needs and
    consent changed: its page shows yesterday's, and leads to the whole record of that day."""
    person = a_consenting_resident(app)
    yesterday = today(app) - timedelta(days=1)
    session_id = record_given(app, person.id, local_time(app, yesterday))
    with app.app_context():
        records.update(
            actor(app, "manager"),
            person.id,
            {"room": "Z99", "light_pressure_only": True, "communication_sight": "Large print"},
            "Moved; skin now fragile; glasses lost",
        )
    refuses_from(app, person.id, today(app))
    reader = signed_in("nurse")

    shown = reader.get(f"/sessions/{session_id}")
    assert shown.status_code == 200
    then = text(shown).split("The resident then:", 1)[1].split("The record as it stood", 1)[0]
    assert f"room {person.room}" in then
    assert "Z99" not in then and "Light pressure" not in then
    assert "sight" not in then and "consent" not in then.lower()
    assert f"as_of={yesterday.isoformat()}" in shown.get_data(as_text=True)

    now = text(reader.get(f"/residents/{person.id}"))
    assert "Z99" in now and "Light pressure" in now and "sight" in now
