"""The top of a resident's report: who, where, consent and precautions as the month began,
admission and departure, and what changed during the month."""

from __future__ import annotations

import io
from datetime import date

from reportlab.platypus import Flowable, Image, Table, TableStyle

from carelog.care.vocabulary import words_for
from carelog.reports.document import Consent, ResidentReport
from carelog.reports.pdf import formatting as fmt
from carelog.reports.pdf import styles as st
from carelog.reports.pdf.paragraph import Paragraph
from carelog.reports.pdf.tables import NAME_LIMIT, p
from carelog.residents.vocabulary import DECIDER_BASIS


def consent_text(consent: Consent | None, today: date) -> str:
    """Return the consent in force as one sentence, flagging a review date that has passed."""
    if consent is None:
        return "NO CONSENT RECORDED"
    review = fmt.day(consent.review_on)
    if consent.review_on is not None and consent.review_on < today:
        review += " (REVIEW OVERDUE)"
    basis = words_for(DECIDER_BASIS, consent.basis)
    who = f": {consent.decided_by}" if consent.decided_by else ""
    decided = f"{basis}{who}, {fmt.day(consent.decided_on)}."
    if not consent.given:
        return f"{decided} {consent.decision}. Review by {review}."
    return f"{decided} Review by {review}. Scope: {consent.scope or fmt.DASH}"


def header(report: ResidentReport, width: float) -> list[Flowable]:
    """Return the title block: who, where, when, consent and precautions."""
    r = report.resident
    name = r.full_name + (f" (known as {r.preferred_name})" if r.preferred_name else "")
    labels = report.precautions.labels
    note = report.precautions.note
    precautions = " — ".join(filter(None, (" · ".join(labels), note))) or "None recorded"
    # What was true at the time: a review was overdue if it had passed by the month's end.
    as_of = min(report.generated_at.date(), report.month.last_day)
    lw = 70
    rows = [
        [
            p("Resident", st.LABEL),
            p(name, st.CELL_BOLD, NAME_LIMIT * 2),
            p("Room", st.LABEL),
            p(r.room, limit=40),
        ],
        [
            p("Date of birth", st.LABEL),
            fmt.day(r.date_of_birth),
            p("Ward", st.LABEL),
            p(report.ward_name, limit=NAME_LIMIT),
        ],
        [
            p("Consent", st.LABEL),
            p(consent_text(report.consent, as_of)),
            "",
            "",
        ],
        [p("Precautions", st.LABEL), p(precautions, st.CELL_BOLD), "", ""],
        [p("Stay", st.LABEL), p(stay_text(report)), p("Target", st.LABEL), target_text(report)],
    ]
    for label, lines, style in (
        ("Communication", report.communication, st.CELL_BOLD),
        ("Plan", report.plan, st.CELL),
    ):
        if lines:
            text = " · ".join(f"{name}: {words}" for name, words in lines)
            rows.append([p(label, st.LABEL), p(text, style), "", ""])
    table = Table(rows, colWidths=[lw, width * 0.55, lw, width * 0.45 - 2 * lw], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), st.FONT, 8, 9.6),
                ("SPAN", (1, 2), (3, 2)),
                ("SPAN", (1, 3), (3, 3)),
                *(("SPAN", (1, row), (3, row)) for row in range(5, len(rows))),
                ("FONT", (1, 4), (1, 4), st.FONT_BOLD, 8, 9.6),
                ("BOX", (0, 0), (-1, -1), 0.6, st.INK),
                ("LINEBELOW", (0, 0), (-1, -2), 0.3, st.RULE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    title = [
        p(
            f"Hand massage monthly record: {fmt.month_label(report.month, report.figures_to)}",
            st.TITLE,
        ),
        p(f"{report.home_name} · {report.ward_name}", st.SUBTITLE, NAME_LIMIT * 2),
    ]
    return [*with_photo(title, report.photo, width), table, *fact_changes(report)]


PHOTO_SIDE = 62  # points: about 22 mm, enough to recognise a face on paper


def with_photo(title: list[Flowable], photo: bytes | None, width: float) -> list[Flowable]:
    """The title, with the resident's photo beside it when the record had one."""
    if not photo:
        return title
    picture = Image(io.BytesIO(photo), width=PHOTO_SIDE, height=PHOTO_SIDE, kind="proportional")
    block = Table([[title, picture]], colWidths=[width - PHOTO_SIDE - 6, PHOTO_SIDE + 6])
    block.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (1, 0), (1, 0), "RIGHT"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return [block]


def stay_text(report: ResidentReport) -> str:
    """Admission and departure, as the report's reader needs them."""
    text = f"Admitted {fmt.day(report.admitted_on)}" if report.admitted_on else ""
    if report.departed_on:
        left = f"Left {fmt.day(report.departed_on)}"
        if report.departure_reason:
            left += f" ({report.departure_reason})"
        text = f"{text} · {left}" if text else left
    return text or fmt.DASH


def target_text(report: ResidentReport) -> str | Paragraph:
    """The weekly target, and the usual product (a session row names any other)."""
    target = f"{report.weekly_target} a week" if report.weekly_target is not None else fmt.DASH
    if report.usual_product:
        return p(f"{target}; product: {report.usual_product}")
    return target


def fact_changes(report: ResidentReport) -> list[Flowable]:
    """The header shows the record as the month began; these changed it during the month."""
    if not report.fact_changes:
        return []
    lines = [p("Changes during the month", st.H2)]
    for change in report.fact_changes:
        why = f" Why: {change.reason}" if change.reason else ""
        lines.append(p(f"{fmt.day(change.day)}: {change.what}.{why}", st.CELL, 600))
    return lines
