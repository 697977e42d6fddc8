"""QR door cards: what a card's code opens, what it refuses and says, and the printed sheet."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta

import pytest

from carelog.residents import records
from carelog.residents.cards import card_code, resident_id_on
from tests.helpers.pages import text
from tests.helpers.records import (
    actor,
    audit_entries,
    nurse_ward,
    residents_where,
    today,
    user_id,
)


def test_a_code_names_its_resident_whether_bare_or_in_an_address():
    code = card_code(12)
    assert resident_id_on(code) == 12
    assert resident_id_on(f"https://home.example/cards/{code}") == 12
    assert resident_id_on(code.upper()) == 12
    assert resident_id_on("R12-000000") is None  # a misread check
    assert resident_id_on(code.replace("R12", "R13")) is None  # a slip in the number
    assert resident_id_on("Peggy Hughes") is None and resident_id_on("") is None


def test_scanning_a_card_opens_the_residents_session(app, signed_in):
    person = residents_where(app, nurse_ward(app))[0]
    nurse = signed_in("nurse")
    for url in (
        f"/cards/{card_code(person.id)}",
        f"/cards/scan?code=http://tablet.local/cards/{card_code(person.id)}",
        f"/cards/scan?code={card_code(person.id)}",
    ):
        response = nurse.get(url)
        assert response.status_code == 303, url
        assert response.location.endswith(f"/residents/{person.id}/session")


def test_a_card_from_another_ward_says_so(app, signed_in):
    other = nurse_ward(app, "nurse2")
    person = residents_where(app, other)[0]
    response = signed_in("nurse").get(f"/cards/{card_code(person.id)}")
    assert response.status_code == 403
    page = text(response)
    assert "This card is for a resident of Willow ward, not Rowan" in page
    assert person.family_name not in page  # nothing more about someone she does not care for


def test_a_card_of_a_resident_who_left_says_so(app, signed_in):
    person = residents_where(app, nurse_ward(app))[0]
    with app.app_context():
        records.record_departure(
            actor(app, "manager"), person.id, today(app) - timedelta(days=1), "Moved"
        )
    response = signed_in("nurse").get(f"/cards/{card_code(person.id)}")
    assert response.status_code == 410
    assert "left the home" in text(response) and "take it off the door" in text(response)


@pytest.mark.parametrize("code", ["R1-000000", "hello", "R99999999-" + "a" * 6, "x" * 600])
def test_a_damaged_or_foreign_code_opens_nothing(signed_in, code):
    response = signed_in("nurse").get("/cards/scan", query_string={"code": code})
    assert response.status_code == 404
    assert "not a carelog door card" in text(response)


def test_the_manager_prints_a_wards_door_cards(app, signed_in, tmp_path):
    ward = nurse_ward(app)
    people = residents_where(app, ward)
    manager = signed_in("manager")
    response = manager.get(f"/cards/ward/{ward}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = tmp_path / "cards.pdf"
    pdf.write_bytes(response.data)
    words = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for person in people:
        assert person.display_name in words and card_code(person.id) in words
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert pages == -(-len(people) // 8), info  # eight cards to a page
    [entry] = audit_entries(app, "cards.print")
    assert entry.new == {"ward_id": ward, "residents": len(people)}
    assert entry.actor_id == user_id(app, "manager")


def test_a_name_with_markup_prints_as_written(app, signed_in, tmp_path):
    person = residents_where(app, nurse_ward(app))[0]
    with app.app_context():
        records.update(actor(app, "manager"), person.id, {"preferred_name": "<b>Bee"}, "Her wish")
    response = signed_in("manager").get(f"/cards/ward/{nurse_ward(app)}.pdf")
    assert response.status_code == 200
    pdf = tmp_path / "cards.pdf"
    pdf.write_bytes(response.data)
    words = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "<b>Bee" in words


def test_the_board_has_one_camera_dialog_and_a_plain_title(app, signed_in):
    page = signed_in("nurse").get("/ward/").get_data(as_text=True)
    assert re.search(r"<title>\w+ board · carelog</title>", page)
    assert page.count('id="camera-scan"') == 1
