"""Render monthly reports and read them back: numbers, Unicode, hostile text, pages, validity."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest
from PIL import Image, ImageChops
from pypdf import PdfReader

from carelog.reports.document import (
    AuditFingerprint,
    BatchReport,
    Consent,
    Correction,
    Month,
    Observation,
    Precautions,
    Rating,
    Resident,
    ResidentReport,
    SessionRow,
    SleepNight,
)
from carelog.reports.pdf import formatting as fmt
from carelog.reports.pdf.render import render_batch, render_resident_report
from carelog.reports.stats import median, paired_summary, quartiles, sleep_comparison
from carelog.reports.summary import summarise

HEAD = "9f2c" * 16
UNICODE_NAMES = ["Łucja", "Zoë", "Siobhán", "Żaneta", "Ørjan", "Ngozi", "Дмитрий", "Σοφία"]
HOSTILE = '<b>&P "x"'
LONG_WORD = "W" * 300


def make_report(
    name: str = "Łucja Nowak",
    sessions: int = 30,
    note: str = "",
    given_by: str = "Zoë Adeyemi",
    page_size: str = "A4",
) -> ResidentReport:
    """Return a June 2025 report with a deterministic mix of outcomes, ratings and flags."""
    month = Month(2025, 6)
    rows = []
    for i in range(sessions):
        start = datetime(2025, 6, 1 + i % 30, 9 + (i * 5) % 10, (i * 17) % 60)
        outcome = (
            "completed",
            "completed",
            "completed",
            "stopped_early",
            "declined",
            "completed",
            "not_done",
        )[i % 7]
        given = outcome in ("completed", "stopped_early")
        rb = Rating(absence="declined") if i % 11 == 3 else Rating((i * 3) % 7)
        ra = Rating((i * 3) % 7 + (i % 4) - 1 if (i * 3) % 7 + (i % 4) >= 1 else 0)
        mb = Rating(1 + i % 4, rater="observer" if i % 5 == 0 else "self")
        ma = Rating(absence="unable") if i % 9 == 2 else Rating(min(5, 2 + i % 4))
        rows.append(
            SessionRow(
                start=start,
                given_by=given_by if i % 2 else "Ngozi Okafor",
                outcome=outcome,
                duration_min=10 if outcome != "stopped_early" else 4,
                hands="both" if given else None,
                pressure=("light" if i % 3 else "normal") if given else None,
                product="own emollient",
                assent="agreed" if given else "declined",
                not_done_reason=("unwell", "asleep")[i % 2] if outcome == "not_done" else None,
                relaxation_before=rb if given else Rating(),
                relaxation_after=ra if given else Rating(),
                mood_before=mb if given else Rating(),
                mood_after=ma if given else Rating(),
                sleep_before=Rating(5),
                sleep_after=Rating(6 + i % 3),
                late=i == 4,
                corrected=i == 5,
                voided=i == 8,
                observations=(Observation("redness", "cream applied", "nurse in charge", "left"),)
                if i == 6
                else (),
                note=note if i == 1 else "",
                entry_ref=f"S-{100 + i}",
            )
        )
    nights = [
        SleepNight(date(2025, 6, d), None if d % 10 == 0 else (d * 7) % 11, d % 3 != 0)
        for d in range(1, 31)
    ]
    return ResidentReport(
        home_name="Rosewood House",
        ward_name="Oak ward",
        resident=Resident(name, name.split()[0], "12B", date(1934, 3, 3)),
        month=month,
        consent=Consent(
            "best_interests",
            "Dr Siobhán Kelly",
            date(2025, 1, 5),
            date(2025, 7, 5),
            "both hands, own fragrance-free emollient",
        ),
        precautions=Precautions(("light pressure only", "nut-oil allergy"), "fragile skin"),
        planned_sessions=max(sessions, 0) + 2,
        sessions=rows,
        corrections=[
            Correction(
                datetime(2025, 6, 7, 10, 0),
                "Ørjan Berg",
                "session Fri 06 14:32",
                "correction",
                "wrong hand recorded",
                "hands left → both",
            ),
            Correction(
                datetime(2025, 6, 10, 8, 0),
                "Ørjan Berg",
                "session Mon 09 09:00",
                "void",
                "entered for the wrong resident",
            ),
        ]
        if sessions
        else [],
        sleep_nights=nights if sessions else [],
        generated_by="Дмитрий Petrov",
        generated_at=datetime(2025, 7, 1, 9, 30),
        timezone="Europe/London",
        fingerprint=AuditFingerprint(HEAD, 4821),
        page_size=page_size,  # type: ignore[arg-type]
    )


def pdf_text(data: bytes) -> list[str]:
    """Return the extracted text of each page."""
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def flat(text: str) -> str:
    """Return text with all whitespace removed, so wrapped words compare equal."""
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def full_report() -> ResidentReport:
    return make_report()


@pytest.fixture(scope="module")
def full_pdf(full_report: ResidentReport) -> bytes:
    return render_resident_report(full_report)


def make_batch(residents: list[ResidentReport], ward_name: str | None = None) -> BatchReport:
    """Return a June 2025 batch of the given reports (the whole home unless a ward is named)."""
    return BatchReport(
        home_name="Rosewood House",
        ward_name=ward_name,
        month=Month(2025, 6),
        residents=residents,
        generated_by="Ørjan Berg",
        generated_at=datetime(2025, 7, 1, 9, 0),
        timezone="Europe/London",
        fingerprint=AuditFingerprint(HEAD, 4821),
    )


def qpdf_check(data: bytes, tmp_path: Path) -> None:
    """Assert that qpdf finds no structural error in the PDF."""
    qpdf = shutil.which("qpdf")
    assert qpdf, "qpdf is not installed"
    path = tmp_path / "check.pdf"
    path.write_bytes(data)
    result = subprocess.run([qpdf, "--check", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_renderer_imports_neither_flask_nor_sqlalchemy() -> None:
    """Load the report modules without running carelog/__init__.py (which builds the app)."""
    package = Path(__file__).resolve().parents[1] / "carelog"
    code = (
        "import sys, types; "
        "pkg = types.ModuleType('carelog'); "
        f"pkg.__path__ = [{str(package)!r}]; "
        "sys.modules['carelog'] = pkg; "
        "import carelog.reports.pdf.render, carelog.reports.stats, carelog.reports.document; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'sqlalchemy')); "
        "print(bad); sys.exit(bool(bad))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_printed_numbers_equal_the_statistics(full_report: ResidentReport, full_pdf: bytes) -> None:
    given = [s for s in full_report.sessions if s.given and not s.voided]
    relax = paired_summary((s.relaxation_before, s.relaxation_after) for s in given)
    mood = paired_summary((s.mood_before, s.mood_after) for s in given)
    sleep = sleep_comparison((n.value, n.massage_that_day) for n in full_report.sleep_nights)
    changes = [
        a.value - b.value
        for b, a in ((s.relaxation_before, s.relaxation_after) for s in given)
        if a.value is not None and b.value is not None
    ]
    assert relax.median_change == median(changes)
    assert relax.change_iqr == quartiles(changes)
    text = flat(pdf_text(full_pdf)[0])
    q1, q3 = relax.change_iqr
    relax_row = (
        f"Relaxation0–10{relax.n_pairs}{fmt.number(relax.median_before)}"
        f"{fmt.number(relax.median_after)}{fmt.signed(relax.median_change)}"
        f"(IQR{fmt.signed(q1)}to{fmt.signed(q3)})"
        f"{relax.improved}/{relax.same}/{relax.worse}{relax.n_missing}{relax.n_observer}"
    )
    assert relax_row in text
    assert f"Mood1–5{mood.n_pairs}" in text
    assert f"{mood.improved}/{mood.same}/{mood.worse}{mood.n_missing}{mood.n_observer}" in text
    assert f"{fmt.number(sleep.median_after_massage)}(n={sleep.n_after_massage})" in text
    assert f"{fmt.number(sleep.median_other)}(n={sleep.n_other})" in text
    counted = [s for s in full_report.sessions if not s.voided]
    outcomes = Counter(s.outcome for s in counted)
    reasons = Counter(s.not_done_reason for s in counted if s.outcome == "not_done")
    planned = full_report.planned_sessions
    s = summarise(full_report)
    early = f",{outcomes['stopped_early']}stoppedearly" if outcomes["stopped_early"] else ""
    sessions_row = (
        f"{planned}{len(given)}({s.share('given')}){early}"
        f"{outcomes['declined']}({s.share('declined')}){outcomes['not_done']}"
        f"(unwell{reasons['unwell']},asleep{reasons['asleep']})({s.share('not_done')})"
        f"{s.missed}({s.share('missed')}){len(full_report.sessions) - len(counted)}Scale"
    ).replace(" ", "")
    assert sessions_row in text
    assert sum(s.shares.values()) == 100


def test_every_page_has_numbering_and_fingerprint(full_pdf: bytes) -> None:
    pages = pdf_text(full_pdf)
    assert len(pages) >= 2
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text
        assert f"{HEAD}:4821" in flat(text), "the checkpoint as the checkers take it: HASH:COUNT"
    joined = flat("".join(pages))
    assert flat("Changes in routine care records do not show that massage caused them.") in joined
    assert flat("Generated by Дмитрий Petrov") in joined


def test_session_table_header_repeats_on_each_page_it_spans() -> None:
    pages = pdf_text(render_resident_report(make_report(sessions=90)))
    table_pages = [t for t in pages if "Corrections and voided entries" not in t]
    with_rows = [
        t for t in table_pages if re.search(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d\d +\d\d:\d\d", t)
    ]
    assert len(with_rows) >= 2
    assert all("Flags" in t and "Relaxation" in t for t in with_rows)


def test_unicode_names_print(tmp_path: Path) -> None:
    name = " ".join(UNICODE_NAMES)
    data = render_resident_report(make_report(name=name, given_by="Σοφία Παππά"))
    qpdf_check(data, tmp_path)
    text = flat("".join(pdf_text(data)))
    for word in [*UNICODE_NAMES, "Παππά"]:
        assert word in text


@pytest.mark.parametrize("page_size", ["A4", "letter"])
def test_hostile_text_long_words_emoji_and_cjk_do_not_break_the_pdf(
    page_size: str, tmp_path: Path
) -> None:
    note = f"{HOSTILE} {LONG_WORD} tea 😀☕ 王秀英 end\nsecond line \x00 ok"
    data = render_resident_report(
        make_report(name=f"{HOSTILE} 😀 Ngozi", note=note, given_by=LONG_WORD, page_size=page_size)
    )
    qpdf_check(data, tmp_path)
    text = flat("".join(pdf_text(data)))
    assert flat(HOSTILE) in text
    assert LONG_WORD in text
    assert "tea" in text and "secondline" in text and "end" in text


def test_empty_month_is_one_clean_page(tmp_path: Path) -> None:
    data = render_resident_report(make_report(sessions=0))
    qpdf_check(data, tmp_path)
    pages = pdf_text(data)
    assert len(pages) == 1
    assert "No sessions were recorded this month." in pages[0]
    assert "Page 1 of 1" in pages[0]


def test_batch_has_cover_and_each_resident_starts_a_new_page(tmp_path: Path) -> None:
    residents = [
        make_report(name=f"{n} Test{i}", sessions=(12, 0, 30)[i % 3])
        for i, n in enumerate(UNICODE_NAMES[:4])
    ]
    batch = make_batch(residents)
    data = render_batch(batch)
    qpdf_check(data, tmp_path)
    pages = pdf_text(data)
    assert "Hand massage monthly records: June 2025" in pages[0]
    assert "Whole home" in pages[0]
    starts = [i for i, t in enumerate(pages) if "Hand massage monthly record: June" in t]
    assert len(starts) == len(residents)
    for i, report in zip(starts, residents, strict=True):
        assert flat(report.resident.full_name) in flat(
            pages[i].split("Hand massage monthly record")[1]
        )
        assert flat(report.resident.full_name) in flat(pages[0])
    bounds = [*starts, len(pages)]
    for report, first, end in zip(residents, bounds, bounds[1:], strict=False):
        for text in pages[first:end]:
            names_here = [
                r.resident.full_name for r in residents if flat(r.resident.full_name) in flat(text)
            ]
            assert names_here == [report.resident.full_name]
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text


def test_the_batch_cover_gives_the_page_each_report_starts_on(tmp_path: Path) -> None:
    """A care manager finds a resident in a printed batch from the cover's page column."""
    names = ["Alma Reed", "Bertie Shaw", "Cora Lind", "Dev Mistry", "Edna Voss"]
    residents = [
        make_report(name=name, sessions=(30, 0, 12)[i % 3]) for i, name in enumerate(names)
    ]
    batch = make_batch(residents, ward_name="Rowan")
    data = render_batch(batch)
    pages = pdf_text(data)
    starts = [n for n, t in enumerate(pages, start=1) if "Hand massage monthly record: June" in t]
    path = tmp_path / "batch.pdf"
    path.write_bytes(data)
    cover = subprocess.run(
        ["pdftotext", "-layout", "-f", "1", "-l", "1", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    printed = [
        int(next(line for line in cover.splitlines() if name in line).split()[-1]) for name in names
    ]
    assert printed == starts
    assert starts != list(range(2, 2 + len(names))), "some report should span several pages"


def test_first_page_renders_to_a_non_blank_image(full_pdf: bytes, tmp_path: Path) -> None:
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "pdftoppm (poppler-utils) is not installed"
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(full_pdf)
    subprocess.run(
        [pdftoppm, "-r", "60", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")],
        check=True,
    )
    png = next(tmp_path.glob("p*.png"))
    with Image.open(png) as img:
        lo, hi = img.convert("L").getextrema()
        dark = sum(img.convert("L").histogram()[:128])
    assert png.stat().st_size > 5000
    assert lo < 60 and hi > 200 and dark > 2000


def test_voided_sessions_are_listed_but_not_counted(full_report: ResidentReport) -> None:
    voided = replace(full_report, sessions=[replace(s, voided=True) for s in full_report.sessions])
    text = flat("".join(pdf_text(render_resident_report(voided))))
    assert "VOIDED" in text
    assert "Voided320(0%)0(0%)0(0%)32(100%)" in text, "nothing counted: all 32 planned missed"


def test_qpdf_passes_on_the_full_report(full_pdf: bytes, tmp_path: Path) -> None:
    qpdf_check(full_pdf, tmp_path)


def test_huge_free_text_in_every_field_still_lays_out(tmp_path: Path) -> None:
    big = '<p a="1">&amp; ' * 400 + "Z" * 4000 + "\n" * 500
    base = make_report(sessions=4)
    report = replace(
        base,
        home_name=big,
        ward_name=big,
        resident=Resident(big, big, big, None),
        consent=Consent("lpa", big, date(2025, 1, 1), None, big),
        precautions=Precautions((big,) * 50, big),
        sessions=[
            replace(s, given_by=big, note=big, observations=(Observation("pain", big, big, big),))
            for s in base.sessions
        ],
        corrections=[Correction(datetime(2025, 6, 2, 9), big, big, "void", big, big)] * 3,
        generated_by=big,
        timezone=big,
    )
    data = render_resident_report(report)
    qpdf_check(data, tmp_path)
    assert "Page 1 of" in pdf_text(data)[0]


def test_letter_page_size() -> None:
    page = PdfReader(io.BytesIO(render_resident_report(make_report(page_size="letter")))).pages[0]
    assert (round(page.mediabox.width), round(page.mediabox.height)) == (612, 792)


def test_the_reading_guide_never_stands_alone_on_a_page(full_report: ResidentReport) -> None:
    """Whatever the number of sessions pushes where, the guide shares its page with the section
    before it."""
    for count in range(0, len(full_report.sessions) + 1, 3):
        report = replace(full_report, sessions=full_report.sessions[:count])
        pages = pdf_text(render_resident_report(report))
        [guide_page] = [page for page in pages if "How to read this report" in page]
        assert "Corrections and voided entries" in guide_page, count


def _chart_pixels(drawing, tmp_path: Path, name: str) -> Image.Image:
    """The drawing alone on a PDF page (drawn as a report draws it), rendered at 150 dpi in
    grey."""
    from reportlab.pdfgen.canvas import Canvas

    pdf = tmp_path / f"{name}.pdf"
    canvas = Canvas(str(pdf), pagesize=(drawing.width, drawing.height))
    drawing.wrapOn(canvas, drawing.width, drawing.height)
    drawing.drawOn(canvas, 0, 0)
    canvas.save()
    subprocess.run(
        ["pdftoppm", "-r", "150", "-gray", "-png", "-singlefile", str(pdf), str(tmp_path / name)],
        check=True,
    )
    return Image.open(tmp_path / f"{name}.png").convert("L")


def _changed_share(before: Image.Image, after: Image.Image) -> float:
    """Pixels that turned from ink to paper or back, as a share of the inked pixels before."""
    assert before.size == after.size
    changed = sum(ImageChops.difference(before, after).histogram()[97:])
    inked = sum(before.histogram()[:128])
    return changed / max(inked, 1)


def _chart(kind: str, report: ResidentReport):
    from carelog.reports.pdf import charts

    if kind == "sleep":
        return charts.sleep_chart(report.sleep_nights, report.month, 480)
    make = charts.relaxation_chart if kind == "relaxation" else charts.mood_chart
    return make(report.sessions, report.month, 480)


@pytest.mark.parametrize("kind", ["relaxation", "mood", "sleep"])
def test_a_compacted_chart_draws_the_same_picture_with_a_fraction_of_the_shapes(
    kind: str, full_report: ResidentReport, tmp_path: Path
) -> None:
    """The PDF's charts merge alike-painted shapes into paths (a third of a report's drawing
    time): every grid line, tick, marker and bar is still there, where it was."""
    from carelog.reports.pdf.compact import compacted

    plain, merged = _chart(kind, full_report), compacted(_chart(kind, full_report))
    assert len(merged.contents) < len(plain.contents) * 0.7
    share = _changed_share(
        _chart_pixels(plain, tmp_path, "plain"), _chart_pixels(merged, tmp_path, "merged")
    )
    # Only where two markers overlap may an outline show that a white fill hid before.
    assert share < 0.005


def test_the_picture_comparison_tells_a_chart_missing_its_markers(
    full_report: ResidentReport, tmp_path: Path
) -> None:
    """The comparison above can fail: a compacted chart that lost its merged shapes differs."""
    from carelog.reports.pdf.compact import compacted

    broken = compacted(_chart("relaxation", full_report))
    broken.contents = [s for s in broken.contents if type(s).__name__ != "Path"]
    share = _changed_share(
        _chart_pixels(_chart("relaxation", full_report), tmp_path, "plain"),
        _chart_pixels(broken, tmp_path, "broken"),
    )
    assert share > 0.05


@pytest.mark.parametrize("kind", ["relaxation", "mood", "sleep"])
def test_no_words_on_a_chart_run_into_anything(kind: str, full_report: ResidentReport) -> None:
    """Title, legend, axis labels and caption each have room of their own: no word touches
    another word, a legend sample, a marker or a line (a long title once ran into the legend)."""
    from reportlab.graphics.shapes import String

    # Every series present (an observer's too), so that the legend is at its longest.
    def both_raters(i: int, s: SessionRow) -> SessionRow:
        if not s.given:
            return s
        rater = "observer" if i % 3 else "self"
        return replace(
            s,
            **{
                f"{scale}_{side}": Rating(getattr(s, f"{scale}_{side}").value, rater=rater)
                for scale in ("relaxation", "mood")
                for side in ("before", "after")
            },
        )

    sessions = [both_raters(i, s) for i, s in enumerate(full_report.sessions)]
    shapes = _chart(kind, replace(full_report, sessions=sessions)).contents
    words = [s for s in shapes if isinstance(s, String)]
    assert len(words) > 10
    for word in words:
        x0, y0, x1, y1 = word.getBounds()
        for other in shapes:
            if other is word:
                continue
            u0, v0, u1, v1 = other.getBounds()
            overlap = min(x1, u1) - max(x0, u0) > 0.5 and min(y1, v1) - max(y0, v0) > 0.5
            assert not overlap, (word.text, other)


def _page_images(pdf: bytes, tmp_path: Path, name: str) -> list[Image.Image]:
    (tmp_path / f"{name}.pdf").write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "72",
            "-gray",
            "-png",
            str(tmp_path / f"{name}.pdf"),
            str(tmp_path / name),
        ],
        check=True,
    )
    return [Image.open(png).convert("L") for png in sorted(tmp_path.glob(f"{name}-*.png"))]


def test_paragraphs_laid_out_once_per_width_print_the_same_pages(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Keeping a paragraph's lines for a width it was already measured at changes nothing on
    the page (a long note split over pages included), and does save the work."""
    from reportlab.platypus import paragraph as reportlab_paragraph

    from carelog.reports.pdf.paragraph import Paragraph

    report = make_report(note="She talked about the garden she kept at Ballymena. " * 60)
    broken = Counter()
    breaking = reportlab_paragraph.Paragraph.breakLines

    def counted(self, widths):
        broken[type(self).__name__] += 1
        return breaking(self, widths)

    monkeypatch.setattr(reportlab_paragraph.Paragraph, "breakLines", counted)
    kept = render_resident_report(report)
    kept_breaks = sum(broken.values())
    monkeypatch.setattr(Paragraph, "wrap", reportlab_paragraph.Paragraph.wrap)
    broken.clear()
    fresh = render_resident_report(report)
    assert kept_breaks < sum(broken.values()) * 0.7
    kept_pages, fresh_pages = (
        _page_images(kept, tmp_path, "kept"),
        _page_images(fresh, tmp_path, "fresh"),
    )
    assert len(kept_pages) == len(fresh_pages) >= 3
    for one, other in zip(kept_pages, fresh_pages, strict=True):
        assert ImageChops.difference(one, other).getbbox() is None


def _in_a_new_thread(make):
    """What `make()` returns when run on a thread of its own (one with nothing kept yet)."""
    import threading

    answer = {}
    worker = threading.Thread(target=lambda: answer.setdefault("value", make()))
    worker.start()
    worker.join()
    return answer["value"]


def _with_corrections(count: int, long: int) -> ResidentReport:
    """A report with `count` corrections, the first `long` of them over three lines: enough to
    push the reading guide across a page break, its heading at the foot of a page."""
    report = make_report()
    corrections = [
        Correction(
            datetime(2025, 6, 1 + i % 28, 10, 0),
            "Ørjan Berg",
            f"session {i}",
            "correction",
            "wrong hand recorded " * (3 if i < long else 1),
            "",
        )
        for i in range(count)
    ]
    return replace(report, corrections=corrections)


def test_standing_paragraphs_print_the_same_pages_whatever_came_before(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The reading guide, laid out once and handed to each report, prints exactly as a freshly
    made one: in a batch whose first guide is split over a page break (its heading kept with
    its text, then moved to a new page), in the reports made after it on the same thread, and
    after a Letter report (another width); and it does save the work."""
    from reportlab.platypus import paragraph as reportlab_paragraph

    from carelog.reports.pdf import appendix
    from carelog.reports.pdf.paragraph import Paragraph

    split = _with_corrections(46, 7)
    twice = [split, replace(split, resident=replace(split.resident, full_name="Zoë Second"))]
    report = make_report(note="She talked about the garden she kept at Ballymena. " * 12)

    def made_on_one_thread() -> list[bytes]:
        return [
            render_batch(make_batch(twice)),
            render_resident_report(make_report(page_size="letter")),
            render_resident_report(split),
            render_resident_report(report),
        ]

    kept = _in_a_new_thread(made_on_one_thread)
    read = Counter()
    reading = reportlab_paragraph.Paragraph._setup

    def counted(self, *args):
        read["paragraphs"] += 1
        return reading(self, *args)

    monkeypatch.setattr(reportlab_paragraph.Paragraph, "_setup", counted)
    _in_a_new_thread(lambda: render_resident_report(report))
    first_reads = read["paragraphs"]
    read.clear()
    _in_a_new_thread(
        lambda: [render_resident_report(report), read.clear(), render_resident_report(report)]
    )
    assert read["paragraphs"] <= first_reads - 5  # the guide's paragraphs were not read again

    monkeypatch.setattr(appendix, "standing", lambda text, style: Paragraph(text, style))
    fresh = _in_a_new_thread(made_on_one_thread)
    for n, (one, other) in enumerate(zip(kept, fresh, strict=True)):
        kept_pages = _page_images(one, tmp_path, f"kept{n}")
        fresh_pages = _page_images(other, tmp_path, f"fresh{n}")
        assert len(kept_pages) == len(fresh_pages) >= 2
        for page, (a, b) in enumerate(zip(kept_pages, fresh_pages, strict=True), start=1):
            assert ImageChops.difference(a, b).getbbox() is None, f"document {n}, page {page}"


def test_standing_paragraphs_are_kept_per_thread_and_what_platypus_marks_stays_in_one_report() -> (
    None
):
    """Two threads never lay out one paragraph together, each report gets its own copy (marks
    platypus leaves on a flowable, such as "moved to the next page" or "no longer kept with the
    next", do not reach the next report), and the copies share the lines broken once."""
    from reportlab.platypus import paragraph as reportlab_paragraph

    from carelog.reports.pdf import styles as st
    from carelog.reports.pdf.paragraph import standing

    text = "<b>Higher</b> is better on all three scales."
    first = standing(text, st.H2)
    first.wrap(400, 800)
    first._postponed = 1
    first.__dict__["keepWithNext"] = 0
    second = standing(text, st.H2)
    assert second is not first
    assert first.getKeepWithNext() == 0
    assert not hasattr(second, "_postponed") and second.getKeepWithNext() == st.H2.keepWithNext == 1
    breaking = reportlab_paragraph.Paragraph.breakLines
    reportlab_paragraph.Paragraph.breakLines = None  # a copy laid out already breaks nothing
    try:
        assert second.wrap(400, 800) == first.wrap(400, 800)
    finally:
        reportlab_paragraph.Paragraph.breakLines = breaking
    assert _in_a_new_thread(lambda: standing(text, st.H2)._layout_kept_by) is not (
        second._layout_kept_by
    )
