"""Flowables for each section of a resident's monthly report, top to bottom."""

from __future__ import annotations

from reportlab.platypus import Flowable, KeepTogether, Spacer

from carelog.care.vocabulary import (
    ASSENT_WORDS,
    NOT_DONE_REASON_WORDS,
    OUTCOME_WORDS,
    words_for,
)
from carelog.reports.document import ResidentReport, SessionRow
from carelog.reports.pdf import formatting as fmt
from carelog.reports.pdf import styles as st
from carelog.reports.pdf.charts import mood_chart, relaxation_chart, sleep_chart
from carelog.reports.pdf.compact import compacted
from carelog.reports.pdf.paragraph import Paragraph
from carelog.reports.pdf.tables import NAME_LIMIT, grid, p
from carelog.reports.stats import PairedSummary
from carelog.reports.summary import ResidentSummary

CAUSATION = "Changes in routine care records do not show that massage caused them."


# Assent worth a note beside the outcome: the ordinary "agreed" goes without saying.
ASSENT_NOTES = ("nonverbal", "withdrew")


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
    given = f"{s.given} ({s.share('given')})"
    if s.stopped_early:
        given += f", {s.stopped_early} stopped early"
    sessions: Flowable = grid(
        [
            ["Planned", "Given", "Declined", "Not done", "Missed", "Voided"],
            [
                str(s.planned),
                given,
                f"{s.declined} ({s.share('declined')})",
                f"{not_done} ({s.share('not_done')})",
                f"{s.missed} ({s.share('missed')})",
                str(s.voided),
            ],
        ],
        [width * f for f in (0.1, 0.2, 0.13, 0.3, 0.14, 0.13)],
    )
    excluded = "; ".join(
        f"{days} {'day' if days == 1 else 'days'} with {why}" for why, days in report.excluded_days
    )
    if excluded:
        sessions = KeepTogether([sessions, p(f"Not planned: {excluded}.", st.SMALL)])
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
    conflicts = [
        f"{fmt.day(n.night_of)}: {' and '.join(map(str, n.conflict))}, {n.value} counts"
        for n in report.sleep_nights
        if n.conflict
    ]
    if conflicts:
        listed = p("Nights rated more than once, differently: " + "; ".join(conflicts) + ".")
        return [heading, sessions, gap, ratings, gap, sleep, Spacer(0, 2), listed]
    return [heading, sessions, gap, ratings, gap, sleep]


def charts(report: ResidentReport, width: float) -> list[Flowable]:
    """Return the three charts, leaving out those with nothing to draw."""
    given = [s for s in report.counted_sessions if s.given]
    out: list[Flowable] = []
    if any(
        s.relaxation_before.value is not None or s.relaxation_after.value is not None for s in given
    ):
        out += [Spacer(0, 8), compacted(relaxation_chart(report.sessions, report.month, width))]
    if any(s.mood_before.value is not None or s.mood_after.value is not None for s in given):
        out += [Spacer(0, 8), compacted(mood_chart(report.sessions, report.month, width))]
    if any(n.value is not None for n in report.sleep_nights):
        out += [Spacer(0, 8), compacted(sleep_chart(report.sleep_nights, report.month, width))]
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


def _product(s: SessionRow, usual: str) -> str:
    """The product used, when it was not the resident's usual one (which the header names)."""
    if s.given and s.product and s.product.casefold() != usual.casefold():
        return f"; product: {s.product}"
    return ""


def _flags(s: SessionRow) -> str:
    """Return the row's flags as words, the void first and in capitals."""
    flags = ["VOIDED, not counted"] if s.voided else []
    if s.override_reason:
        flags.append(f"GIVEN DESPITE A WARNING: {s.override_reason}")
    if s.given and not s.precautions_confirmed:
        flags.append("precautions not confirmed")
    if s.recorded_by and (s.recorded_by != s.given_by or s.late):
        when = f" {fmt.stamp(s.recorded_at)}" if s.recorded_at else ""
        flags.append(f"recorded by {s.recorded_by}{when}")
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
            _outcome(s) + _product(s, report.usual_product),
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
