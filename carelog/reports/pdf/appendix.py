"""The closing sections of a resident's report: observations, notes, corrections, how to read it."""

from __future__ import annotations

from reportlab.platypus import Flowable

from carelog.care.vocabulary import MOOD_WORDS, RELAXATION, SLEEP
from carelog.reports.document import ResidentReport
from carelog.reports.pdf import formatting as fmt
from carelog.reports.pdf import styles as st
from carelog.reports.pdf.paragraph import Paragraph, standing
from carelog.reports.pdf.sections import CAUSATION
from carelog.reports.pdf.tables import CELL_LIMIT, NAME_LIMIT, grid, p
from carelog.reports.sleep_rule import SLEEP_RULE
from carelog.reports.summary import ResidentSummary

NOTE_LIMIT = 2 * CELL_LIMIT


def observations(report: ResidentReport, width: float) -> list[Flowable]:
    """Return every observation (redness, bruise, skin tear, pain, distress) and every note."""
    rows: list[list] = [["Day, time", "Observed", "Action taken", "Who was told"]]
    notes: list[Flowable] = []
    for s in report.sessions:
        when = fmt.session_time(s.start) + (" (voided)" if s.voided else "")
        for o in s.observations:
            seen = fmt.words(o.kind).capitalize() + (f": {o.detail}" if o.detail else "")
            rows.append([when, seen, o.action_taken or fmt.DASH, o.told or fmt.DASH])
        if s.note:
            notes.append(
                Paragraph(
                    f"<b>{st.markup(when)}</b> ({st.markup(s.given_by, NAME_LIMIT)}): "
                    f"{st.markup(s.note, NOTE_LIMIT)}",
                    st.BODY,
                )
            )
    out: list[Flowable] = [p("Observations and adverse events", st.H2)]
    if len(rows) > 1:
        out.append(grid(rows, [width * f for f in (0.14, 0.34, 0.32, 0.2)]))
    else:
        out.append(p("None recorded this month.", st.BODY))
    if notes:
        out += [p("Notes", st.H2), *notes]
    return out


def corrections(report: ResidentReport, width: float) -> list[Flowable]:
    """Return each correction and void made in the month with who, when and why."""
    out: list[Flowable] = [p("Corrections and voided entries", st.H2)]
    if not report.corrections:
        return [*out, p("None this month.", st.BODY)]
    rows: list[list] = [["When", "By", "Entry", "Kind", "Reason and change"]]
    for c in sorted(report.corrections, key=lambda c: c.at):
        reason = c.reason + (f" (changed: {c.change})" if c.change else "")
        kind = "Voided" if c.kind == "void" else "Corrected"
        rows.append([fmt.stamp(c.at), c.by, c.entry, kind, reason])
    return [*out, grid(rows, [width * f for f in (0.15, 0.17, 0.2, 0.1, 0.38)])]


def reading_guide(report: ResidentReport, s: ResidentSummary) -> list[Flowable]:
    """Return the scale anchors, the method, the causation sentence and who made the report."""
    mood = ", ".join(f"{i} = {w}" for i, w in enumerate(MOOD_WORDS, start=1))
    target = f"{report.weekly_target} a week" if report.weekly_target is not None else "as set"
    so_far = f" up to {fmt.day(report.figures_to)}" if report.figures_to else ""
    lines = [
        f"<b>Relaxation</b> ({RELAXATION.question}): 0 = {RELAXATION.low_word}, "
        f"10 = {RELAXATION.high_word}.",
        f"<b>Mood</b> (How are you feeling?): {mood}.",
        f"<b>Sleep</b> ({SLEEP.question}): 0 = {SLEEP.low_word}, 10 = {SLEEP.high_word}.",
        "Higher is better on all three scales. Pairs are sessions given (completed or stopped "
        "early) with both a before and an after rating; change is after minus before for each "
        "session; IQR is the interquartile range, with quartiles computed by the inclusive "
        "method (as Excel QUARTILE.INC and R type 7). Voided entries are listed but not counted. "
        "No test of significance is made: these are repeated observations of one person without "
        "a comparison group.",
        f"<b>Planned</b>: the weekly target in force each day ({target} when the month began), "
        "spread over the days of the week the person-centred plan names (over all seven when it "
        f"names none), over the days the resident was in the home this month{so_far} with valid "
        "consent and sessions not deferred, rounded to whole sessions; the days left out are "
        "listed under the counts. <b>Given</b>: completed or stopped early. "
        "<b>Missed</b>: planned sessions with no entry at all. Given, declined, not done and "
        "missed are shares of the planned "
        "sessions (of all entries, when there were more) and add up to 100 %. "
        "<b>Ratings missing</b>: relaxation and mood ratings with no value in "
        "sessions given. <b>By observer</b>: ratings given by a member of staff watching, "
        "because the resident could not rate. <b>Nights without a rating</b>: nights of the "
        "month with no sleep rating, neither from the next morning nor from the next session's "
        "before-rating. Sleep rates the night after the day it is listed under. " + SLEEP_RULE,
    ]
    recorders = ", ".join(s.recorders) or fmt.DASH
    generated = (
        f"Generated by {report.generated_by} on {fmt.stamp(report.generated_at)} "
        f"({report.timezone}). Sessions recorded by: {recorders}."
    )
    # The same words in every report (bar the target and a month's last day): laid out once.
    guide = [standing("How to read this report", st.H2)]
    guide += [standing(line, st.GUIDE) for line in lines]
    guide += [standing(f"<b>{CAUSATION}</b>", st.NOTICE), p(generated, st.BODY)]
    return guide  # the caller keeps it together with the section before it
