"""A resident's photo: shown to those who may see the resident, kept by the care manager."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, RadioField, StringField
from wtforms.validators import DataRequired

from carelog.accounts.roles import CLINICAL_READERS, MANAGERS, REPORT_READERS
from carelog.audit.actor import current_actor
from carelog.audit.reads import record_form_opened
from carelog.errors import FieldError
from carelog.residents import photos
from carelog.residents.photo_image import MAX_UPLOAD_BYTES
from carelog.residents.visibility import resident_or_404
from carelog.web.fields import max_length, options, required, show_field_error
from carelog.web.policy import roles
from carelog.web.request_body import accepts_upload

bp = Blueprint("photos", __name__, url_prefix="/residents")
UPLOAD_LIMIT = MAX_UPLOAD_BYTES + 64 * 1024  # the photo and the form around it


class PhotoForm(FlaskForm):
    """A photo from the tablet's camera or a file, once its subject (or their representative)
    has agreed to it being kept."""

    photo = FileField("Photo")
    agreed_by = RadioField(
        "Who agreed to the photo being kept?",
        choices=options(photos.AGREED_BY.items()),
        validators=[required("Say who agreed to the photo.")],
    )
    agreed = BooleanField(
        "They agreed to this photo being kept and shown to identify them: on the board, the "
        "session form, their reports and the door card by their room",
        validators=[DataRequired("A photo is kept only once they have agreed.")],
    )
    reason = StringField(
        "Note for the record", validators=[required("Say why, in a few words."), max_length(300)]
    )


class RemovePhotoForm(FlaskForm):
    """Taking a photo down says why (agreement withdrawn, not a good likeness)."""

    reason = StringField(
        "Why take it down", validators=[required("Say why, in a few words."), max_length(300)]
    )


@bp.get("/<int:resident_id>/photo")
@roles(CLINICAL_READERS)
def show(resident_id: int):
    """The photo shown now (or, with ?v=, one the record showed before), as a JPEG; never kept
    by the browser (no-store, like every page)."""
    resident = resident_or_404(resident_id)
    # An earlier photo (?v=, for the record as it stood on a past day) only for those who read
    # the record's history: a photo taken down when agreement was withdrawn is not for the ward.
    asked = request.args.get("v", "")
    photo_id = resident.photo_id
    if asked:
        valid = asked.isascii() and asked.isdigit() and len(asked) < 12
        photo_id = int(asked) if valid else None
        if photo_id != resident.photo_id and current_user.role not in REPORT_READERS:
            photo_id = None
    jpeg = photos.photo_jpeg(resident.id, photo_id) if photo_id else None  # only this resident's
    if jpeg is None:
        abort(404, description="There is no photo of this resident.")
    return jpeg, 200, {"Content-Type": "image/jpeg"}


@bp.route("/<int:resident_id>/photo/edit", methods=["GET", "POST"])
@roles(MANAGERS)
@accepts_upload(UPLOAD_LIMIT)
def edit(resident_id: int):
    """Add or replace the photo, or take it down."""
    resident = resident_or_404(resident_id)
    form = PhotoForm()
    if form.validate_on_submit():
        upload = form.photo.data.read() if form.photo.data else b""
        try:
            photos.add_photo(
                current_actor(), resident.id, upload, form.agreed_by.data, form.reason.data
            )
        except FieldError as error:
            show_field_error(form, error)
        else:
            flash(f"The photo of {resident.display_name} is saved.", "success")
            return redirect(url_for("residents.show", resident_id=resident.id), 303)
    status = 422 if form.is_submitted() else 200
    page = render_template(
        "residents/photo.html", resident=resident, form=form, remove_form=RemovePhotoForm()
    )
    record_form_opened(resident.id, "photo")
    return page, status


@bp.post("/<int:resident_id>/photo/remove")
@roles(MANAGERS)
def remove(resident_id: int):
    """Stop showing the photo; it stays in the record's history."""
    resident = resident_or_404(resident_id)
    form = RemovePhotoForm()
    if not form.validate_on_submit():
        flash("Say why the photo is taken down, in a few words.", "error")
        return redirect(url_for("photos.edit", resident_id=resident.id), 303)
    try:
        photos.remove_photo(current_actor(), resident.id, form.reason.data)
    except FieldError as error:
        flash(error.message, "error")
        return redirect(url_for("photos.edit", resident_id=resident.id), 303)
    flash(f"The photo of {resident.display_name} is no longer shown.", "success")
    return redirect(url_for("residents.show", resident_id=resident.id), 303)
