"""Flowables for each section of a resident's monthly report, top to bottom."""

from __future__ import annotations

from datetime import date

from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle

from carelog.care.vocabulary import (
    ASSENT_WORDS,
    NOT_DONE_REASON_WORDS,
    OUTCOME_WORDS,
    words_for,
)
from carelog.reports.document import Consent, ResidentReport, SessionRow
from carelog.reports.pdf import formatting as fmt
from carelog.reports.pdf import styles as st
from carelog.reports.pdf.charts import mood_chart, relaxation_chart, sleep_chart
from carelog.reports.pdf.tables import NAME_LIMIT, grid, p
from carelog.reports.stats import PairedSummary
from carelog.reports.summary import ResidentSummary
from carelog.residents.vocabulary import DECIDER_BASIS

CAUSATION = "Changes in routine care records do not show that massage caused them."


# Assent worth a note beside the outcome: the ordinary "agreed" goes without saying.
ASSENT_NOTES = ("nonverbal", "withdrew")


def consent_text(consent: Consent | None, today: date) -> str:
    """Return the consent in force as one sentence, flagging a review date that has passed."""
    if consent is None:
        return "NO CONSENT RECORDED"
    review = fmt.day(consent.review_on)
    if consent.review_on is not None and consent.review_on < today:
        review += " (REVIEW OVERDUE)"
    basis = words_for(DECIDER_BASIS, consent.basis)
    who = f": {consent.decided_by}" if consent.decided_by else ""
    return (
        f"{basis}{who}, {fmt.day(consent.decided_on)}. "
        f"Review by {review}. Scope: {consent.scope or fmt.DASH}"
    )


def header(report: ResidentReport, width: float) -> list[Flowable]:
    """Return the title block: who, where, when, consent and precautions."""
    r = report.resident
    name = r.full_name + (f" (known as {r.preferred_name})" if r.preferred_name else "")
    labels = report.precautions.labels
    note = report.precautions.note
    precautions = " — ".join(filter(None, (" · ".join(labels), note))) or "None recorded"
    lw = 62
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
            p(consent_text(report.consent, report.generated_at.date())),
            "",
            "",
        ],
        [p("Precautions", st.LABEL), p(precautions, st.CELL_BOLD), "", ""],
    ]
    table = Table(rows, colWidths=[lw, width * 0.55, lw, width * 0.45 - 2 * lw], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), st.FONT, 8, 9.6),
                ("SPAN", (1, 2), (3, 2)),
                ("SPAN", (1, 3), (3, 3)),
                ("BOX", (0, 0), (-1, -1), 0.6, st.INK),
                ("LINEBELOW", (0, 0), (-1, -2), 0.3, st.RULE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return [
        p(f"Hand massage monthly record: {report.month.label}", st.TITLE),
        p(f"{report.home_name} · {report.ward_name}", st.SUBTITLE, NAME_LIMIT * 2),
        table,
    ]


def _scale_row(label: str, s: PairedSummary, value=fmt.number) -> list:
    """Return one row of the ratings table."""
    iqr = (
        ""
        if s.change_iqr is None
        else f" (IQR {fmt.signed(s.change_iqr[0])} to {fmt.signed(s.change_iqr[1])})"
    )
    return [
        p(label, st.CELL_BOLD),
        str(s.n_pairs),
        value(s.median_before),
        value(s.median_after),
        fmt.signed(s.median_change) + iqr,
        f"{s.improved} / {s.same} / {s.worse}",
        str(s.n_missing),
        str(s.n_observer),
    ]


def summary(report: ResidentReport, s: ResidentSummary, width: float) -> list[Flowable]:
    """Return the month's counts, the rating statistics and the sleep comparison."""
    not_done = str(s.not_done)
    if s.not_done_reasons:
        not_done += " (" + ", ".join(f"{r} {n}" for r, n in s.not_done_reasons) + ")"
    sessions = grid(
        [
            ["Planned", "Given", "Completed", "Stopped early", "Declined", "Not done", "Voided"],
            [
                str(s.planned),
                f"{s.given} of {s.planned}",
                str(s.completed),
                str(s.stopped_early),
                str(s.declined),
                not_done,
                str(s.voided),
            ],
        ],
        [width * f for f in (0.1, 0.11, 0.12, 0.13, 0.11, 0.3, 0.13)],
    )
    ratings = grid(
        [
            [
                "Scale",
                "Pairs",
                "Median before",
                "Median after",
                "Median change (IQR)",
                "Improved / same / worse",
                "Ratings missing",
                "By observer",
            ],
            _scale_row("Relaxation 0–10", s.relaxation),
            _scale_row("Mood 1–5", s.mood, fmt.mood_value),
        ],
        [width * f for f in (0.15, 0.07, 0.12, 0.12, 0.2, 0.14, 0.1, 0.1)],
    )
    sl = s.sleep
    sleep = grid(
        [
            ["Sleep 0–10", "Nights after a massage day", "Other nights", "Nights without a rating"],
            [
                p("Median (nights)", st.CELL_BOLD),
                f"{fmt.number(sl.median_after_massage)} (n = {sl.n_after_massage})",
                f"{fmt.number(sl.median_other)} (n = {sl.n_other})",
                str(sl.n_missing),
            ],
        ],
        [width * f for f in (0.15, 0.3, 0.3, 0.25)],
    )
    gap = Spacer(0, 5)
    heading = p("Summary of the month (voided entries not counted)", st.H2)
    return [heading, sessions, gap, ratings, gap, sleep]


def charts(report: ResidentReport, width: float) -> list[Flowable]:
    """Return the three charts, leaving out those with nothing to draw."""
    given = [s for s in report.counted_sessions if s.given]
    out: list[Flowable] = []
    if any(
        s.relaxation_before.value is not None or s.relaxation_after.value is not None for s in given
    ):
        out += [Spacer(0, 8), relaxation_chart(report.sessions, report.month, width)]
    if any(s.mood_before.value is not None or s.mood_after.value is not None for s in given):
        out += [Spacer(0, 8), mood_chart(report.sessions, report.month, width)]
    if any(n.value is not None for n in report.sleep_nights):
        out += [Spacer(0, 8), sleep_chart(report.sleep_nights, report.month, width)]
    return out


def _outcome(s: SessionRow) -> str:
    """Return the outcome with the not-done reason or a notable assent."""
    text = words_for(OUTCOME_WORDS, s.outcome)
    if s.outcome == "not_done" and s.not_done_reason:
        text += f": {words_for(NOT_DONE_REASON_WORDS, s.not_done_reason).lower()}"
    if s.outcome_reason:
        text += f" ({s.outcome_reason})"
    if s.assent in ASSENT_NOTES:
        text += f" ({words_for(ASSENT_WORDS, s.assent).lower()})"
    return text


def _flags(s: SessionRow) -> str:
    """Return the row's flags as words, the void first and in capitals."""
    flags = ["VOIDED, not counted"] if s.voided else []
    flags += [
        name
        for name, on in (
            ("late entry", s.late),
            ("corrected", s.corrected),
            ("observer-rated", s.observer_rated),
            ("observation", bool(s.observations)),
            ("note", bool(s.note)),
        )
        if on
    ]
    return ", ".join(flags)


FLAGS_COLUMN = 8


def _cell(text: str, column: int, voided: bool) -> str | Paragraph:
    """Return a session-table cell, struck through (all but the flags) when voided."""
    if voided and column != FLAGS_COLUMN:
        return Paragraph(f"<strike>{st.markup(text, NAME_LIMIT)}</strike>", st.CELL)
    return text


def session_table(report: ResidentReport, width: float) -> list[Flowable]:
    """Return every session of the month, voided ones struck through, header on each page."""
    if not report.sessions:
        return [p("Sessions", st.H2), p("No sessions were recorded this month.", st.BODY)]
    rows: list[list] = [
        [
            "Day, time",
            "Given by",
            "Min",
            "Hands, pressure",
            "Relaxation",
            "Mood",
            "Sleep",
            "Outcome",
            "Flags",
        ]
    ]
    for s in report.sessions:
        hands = ", ".join(fmt.words(x) for x in (s.hands, s.pressure) if x) or fmt.DASH
        texts = [
            fmt.session_time(s.start),
            s.given_by,
            str(s.duration_min) if s.given else "–",
            hands,
            fmt.before_after(s.relaxation_before, s.relaxation_after),
            fmt.before_after(s.mood_before, s.mood_after),
            fmt.before_after(s.sleep_before, s.sleep_after),
            _outcome(s),
            _flags(s),
        ]
        rows.append([_cell(t, i, s.voided) for i, t in enumerate(texts)])
    fractions = (0.115, 0.145, 0.045, 0.105, 0.09, 0.09, 0.08, 0.16, 0.17)
    table = grid(rows, [width * f for f in fractions], zebra=True)
    key = (
        "Ratings read before → after. * rated by staff observing; decl = declined to answer; "
        "unable = unable to answer; n/a = not assessed; – = no rating. Sleep: before = the night "
        "before the session, after = the night after."
    )
    return [p("Sessions", st.H2), table, Spacer(0, 2), p(key, st.SMALL)]
