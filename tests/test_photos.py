"""Resident photos: made safe on upload, shown only to those who may see the resident, every
change kept and audited, printed on the report of the time; bad uploads refused in words."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image
from sqlalchemy import func, select

from carelog.audit import chain
from carelog.extensions import db
from carelog.residents.models import Resident, ResidentPhoto, ResidentVersion
from carelog.residents.photo_image import MAX_UPLOAD_BYTES, SIDE, PhotoError, prepared_photo
from tests.helpers.pages import field_errors, text
from tests.helpers.records import audit_entries, count, nurse_ward, residents_where, today

GPS_TAG = 0x8825


def photo_bytes(size=(1600, 1200), fmt="JPEG", orientation: int | None = None) -> bytes:
    """A camera-like photo: big, with a GPS position, a camera make and an orientation."""
    image = Image.new("RGB", size, (200, 120, 90))
    for x in range(0, size[0], 40):  # something that is not one flat colour
        image.paste((30, 60, 200), (x, 0, x + 10, size[1] // 2))
    exif = Image.Exif()
    exif[0x010F] = "TabletCam"  # Make
    exif[GPS_TAG] = {1: "N", 2: (51.0, 30.0, 0.0)}
    if orientation:
        exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, fmt, exif=exif.tobytes()) if fmt == "JPEG" else image.save(out, fmt)
    return out.getvalue()


def bomb_png(width=100_000, height=100_000) -> bytes:
    """A tiny PNG whose header claims ten billion pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 100))
        + chunk(b"IEND", b"")
    )


def test_a_kept_photo_is_small_upright_and_without_metadata():
    kept = prepared_photo(photo_bytes(orientation=6))  # the camera held on its side
    image = Image.open(io.BytesIO(kept.jpeg))
    assert image.format == "JPEG" and max(image.size) <= SIDE
    assert image.size == (360, 480)  # turned upright: 1600x1200 rotated, then fitted in 480
    assert not image.getexif() and "exif" not in image.info
    assert b"TabletCam" not in kept.jpeg


def test_png_and_gif_are_read_too():
    for fmt in ("PNG", "GIF"):
        assert prepared_photo(photo_bytes((300, 200), fmt)).width == 300


@pytest.mark.parametrize(
    ("upload", "words"),
    [
        (b"", "Choose a photo"),
        (b"%PDF-1.7 not a photo", "not a photo carelog can read"),
        (photo_bytes()[:2000], "damaged or incomplete"),
        (bomb_png(), "too many pixels"),
        (b"\xff" * (MAX_UPLOAD_BYTES + 1), "too large"),
    ],
    ids=["empty", "pdf", "truncated", "bomb", "too-large"],
)
def test_bad_uploads_are_refused_in_words(upload, words):
    with pytest.raises(PhotoError, match=words):
        prepared_photo(upload)


def a_resident(app):
    """A resident of the demo nurse's ward with no photo yet."""
    return residents_where(app, ward=nurse_ward(app), departed_on=None, photo_id=None)[0]


def upload(staff, resident_id, data: bytes, **fields):
    form = {
        "photo": (io.BytesIO(data), "photo.jpg"),
        "agreed_by": "resident",
        "agreed": "y",
        "reason": "Agreed with her on admission",
        **fields,
    }
    return staff.submit(
        f"/residents/{resident_id}/photo/edit", form, content_type="multipart/form-data"
    )


def test_a_manager_adds_a_photo_that_nurses_of_the_ward_see(app, signed_in):
    person = a_resident(app)
    manager = signed_in("manager")
    response = upload(manager, person.id, photo_bytes())
    assert response.status_code == 303, text(response)
    with app.app_context():
        resident = db.session.get(Resident, person.id)
        kept = db.session.get(ResidentPhoto, resident.photo_id)
        assert kept.agreed_by == "resident" and kept.width <= SIDE
        version = db.session.scalar(
            select(ResidentVersion)
            .where(ResidentVersion.resident_id == person.id)
            .order_by(ResidentVersion.version_no.desc())
        )
        assert (version.action, version.values["photo_id"]) == ("photo", kept.id)
        assert chain.verify(db.session).ok
    [entry] = audit_entries(app, "resident.photo", person.id)
    assert entry.new["photo_id"] == kept.id and entry.new["sha256"] == kept.sha256

    nurse = signed_in("nurse")
    served = nurse.get(f"/residents/{person.id}/photo")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.headers["Cache-Control"] == "no-store"
    assert served.data == kept.jpeg
    photo_link = f"/residents/{person.id}/photo?v={kept.id}"
    assert photo_link in nurse.get("/ward/").get_data(as_text=True)
    assert photo_link in nurse.get(f"/residents/{person.id}/session").get_data(as_text=True)
    assert signed_in("nurse2").get(f"/residents/{person.id}/photo").status_code == 404
    assert signed_in("admin").get(f"/residents/{person.id}/photo").status_code == 403


@pytest.mark.parametrize(
    ("data", "fields", "field", "words"),
    [
        (b"<html>not a photo</html>", {}, "photo", "not a photo carelog can read"),
        (bomb_png(), {}, "photo", "too many pixels"),
        (None, {"agreed": ""}, "agreed", "only once they have agreed"),
        (None, {"agreed_by": "the cat"}, "agreed_by", "Not a valid choice"),
        (None, {"reason": ""}, "reason", "Say why"),
    ],
    ids=["not-an-image", "bomb", "no-agreement", "bad-agreed-by", "no-reason"],
)
def test_a_refused_upload_says_why_and_saves_nothing(app, signed_in, data, fields, field, words):
    person = a_resident(app)
    manager = signed_in("manager")
    before = count(app, ResidentPhoto), len(audit_entries(app, "resident.photo", person.id))
    response = upload(manager, person.id, data or photo_bytes(), **fields)
    assert response.status_code == 422
    assert words in " ".join(field_errors(response.get_data(as_text=True), field))
    assert (
        count(app, ResidentPhoto),
        len(audit_entries(app, "resident.photo", person.id)),
    ) == before
    with app.app_context():
        assert db.session.get(Resident, person.id).photo_id is None


def multipart(fields: dict[str, str], name: str, data: bytes) -> tuple[bytes, str]:
    """A multipart body built by hand, held in memory (the test client would spool a large
    file to a temporary file that a refused request leaves open)."""
    boundary = "carelogtestboundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'
        for key, value in fields.items()
    ]
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="big.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    )
    body = "".join(parts).encode() + head.encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_an_upload_beyond_the_limit_is_refused_before_it_is_read(app, signed_in):
    person = a_resident(app)
    manager = signed_in("manager")
    kept_before = count(app, ResidentPhoto)
    url = f"/residents/{person.id}/photo/edit"
    fields = {"csrf_token": manager.csrf_token(url), "agreed_by": "resident", "agreed": "y"}
    body, content_type = multipart(fields, "photo", b"\xff" * (MAX_UPLOAD_BYTES + 200_000))
    response = manager.post(url, data=body, content_type=content_type)
    assert response.status_code == 413
    assert "at most 12 MB" in text(response)
    assert count(app, ResidentPhoto) == kept_before


def test_a_new_photo_or_none_keeps_the_earlier_ones(app, signed_in):
    person = a_resident(app)
    manager = signed_in("manager")
    upload(manager, person.id, photo_bytes())
    upload(manager, person.id, photo_bytes((800, 800)), agreed_by="representative")
    response = manager.submit(
        f"/residents/{person.id}/photo/remove", {"reason": "Daughter withdrew agreement"},
        page=f"/residents/{person.id}/photo/edit",
    )  # fmt: skip
    assert response.status_code == 303
    assert count(app, ResidentPhoto, ResidentPhoto.resident_id == person.id) == 2
    with app.app_context():
        assert db.session.get(Resident, person.id).photo_id is None
        actions = db.session.scalars(
            select(ResidentVersion.action).where(ResidentVersion.resident_id == person.id)
        ).all()
        assert actions.count("photo") == 3
    entries = audit_entries(app, "resident.photo", person.id)
    assert [e.new["photo_id"] is None for e in entries] == [False, False, True]
    assert entries[-1].reason  # kept (as a fingerprint, the reason being free text)
    assert signed_in("nurse").get(f"/residents/{person.id}/photo").status_code == 404
    refused = manager.submit(
        f"/residents/{person.id}/photo/remove", {"reason": "again"},
        page=f"/residents/{person.id}/photo/edit",
    )  # fmt: skip
    assert refused.status_code == 303 and len(audit_entries(app, "resident.photo", person.id)) == 3


def test_the_monthly_report_prints_the_photo_of_its_time(app, signed_in):
    person = a_resident(app)
    manager = signed_in("manager")
    this_month = today(app).strftime("%Y-%m")
    url = f"/reports/resident.pdf?resident_id={person.id}&month={this_month}"
    without = manager.get(url)
    assert without.status_code == 200 and b"/Subtype /Image" not in without.data
    upload(manager, person.id, photo_bytes())
    with_photo = manager.get(url)
    assert b"/Subtype /Image" in with_photo.data
    with app.app_context():
        first_month = db.session.scalar(select(func.min(Resident.admitted_on)))
    assert first_month is not None
