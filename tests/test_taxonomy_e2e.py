"""The dashboard's Taxonomy page in a real browser (headless Chromium via Playwright, as in
tests/test_dashboard_e2e.py) against `rca serve` on a copy of the fitted demo: a writer renames
a theme, merges two, previews a split (nothing changes), accepts it, and every step shows on
the page and in the history; a reader is refused. The copy is refitted finer first, so the page
also lists the themes that refit carved out and held, each with a button that previews the split.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil

import pytest
from conftest import copy_home

from rca.api.auth import hash_key, new_key
from rca.api.server import serving
from rca.settings import Settings

pytestmark = pytest.mark.slow
CHROMIUM = os.environ.get("RCA_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]  # fmt: skip
WRITER, READER = new_key(), new_key()
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the legacy Excel container
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

if not shutil.which(CHROMIUM):
    if os.environ.get("RCA_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"{CHROMIUM} is required (apt-get install chromium)")
    pytest.skip(f"no {CHROMIUM}", allow_module_level=True)


@pytest.fixture(scope="module")
def base(fitted_demo: Settings, tmp_path_factory: pytest.TempPathFactory):
    from rca.jobs.fit import fit_themes

    settings = copy_home(fitted_demo, tmp_path_factory.mktemp("taxonomy-e2e") / "home")
    fit_themes(settings, seed=7, granularity=2.0, promote="always")  # holds carved-out themes
    keys = f'["writer:{hash_key(WRITER)}:dana", "reader:{hash_key(READER)}:pm"]'
    env = {"RCA_UI_SECRET": "e2e-secret", "RCA_API_KEYS": keys}
    with serving(settings.home, env=env, timeout_s=120) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


def _log_in(browser, base: str, key: str):
    page = browser.new_context().new_page()
    page.goto(f"{base}/ui/taxonomy")
    page.fill("#api_key", key)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/ui/taxonomy")
    return page


def _options(page, select: str) -> list[str]:
    return page.eval_on_selector_all(f"{select} option", "els => els.map(e => e.value)")


def _row(page, theme_id: str):
    return page.locator(f"#taxonomy-themes tr[data-theme='{theme_id}']")


def test_a_theme_the_refit_held_is_previewed_as_a_split(base: str, browser) -> None:
    page = _log_in(browser, base, WRITER)
    held = page.locator("section[aria-label=Proposals] li[data-kind=new_theme]")
    assert held.count() >= 1
    assert "read as a theme of their own" in held.first.inner_text()
    button = held.first.get_by_role("button", name=re.compile("Preview a split of T"))
    theme = button.get_attribute("aria-label").rsplit(" ", 1)[-1]
    button.click()
    page.wait_for_url(re.compile(r".*preview=E\d+.*"))
    preview = page.locator("#split-preview")
    assert f"of {theme}" in preview.locator("h2").inner_text()
    assert "Nothing has changed yet" in preview.inner_text()
    page.context.close()


def test_a_proposal_a_person_declines_is_kept_off_the_page(base: str, browser) -> None:
    """'Keep as it is' declines the refit's proposals about a theme: they leave the page (and
    the e-mail, which lists the same open ones), the theme is flagged kept, the history says
    who kept it, and undoing the keep brings the proposal back."""
    page = _log_in(browser, base, WRITER)
    proposals = page.locator("section[aria-label=Proposals] li")
    button = proposals.first.get_by_role("button", name=re.compile("Keep T"))
    theme = button.get_attribute("aria-label").split()[1]
    # the proposals about the theme, whatever their wording ("N contacts of T0001 'x'" or
    # "N contacts, M of them in T0001 'x'"): those with its Keep button
    keep = f"button[aria-label='Keep {theme} as it is']"
    about = page.locator("section[aria-label=Proposals] li").filter(has=page.locator(keep))
    before = about.count()
    assert before >= 1
    button.click()
    page.wait_for_url(re.compile(r".*/ui/taxonomy\?done=.*"))
    assert f"Kept {theme} as it is" in page.locator("p.done").inner_text()
    assert about.count() == 0
    assert "kept" in _row(page, theme).inner_text()
    row = page.locator("section[aria-label=History] tr", has_text="keep").last
    assert theme in row.inner_text() and "dana" in row.inner_text()
    row.get_by_role("button", name=re.compile("Undo")).click()
    page.wait_for_url(re.compile(r".*/ui/taxonomy\?done=.*"))
    assert about.count() == before  # undone: the proposal is open again
    assert "kept" not in _row(page, theme).inner_text()
    page.context.close()


def test_rename_merge_split_preview_accept_and_undo(base: str, browser) -> None:
    page = _log_in(browser, base, WRITER)
    assert page.locator("h1").inner_text() == "Taxonomy"
    ids = _options(page, "#rename-theme")
    first, second, third = ids[0], ids[1], ids[2]

    page.select_option("#rename-theme", first)
    page.fill("#rename-label", "Refund not showing")
    page.fill("#rename-why", "clearer for managers")
    page.click("section[aria-label=Rename] button")
    page.wait_for_url(re.compile(r".*/ui/taxonomy\?done=.*"))
    assert "Renamed" in page.locator("p.done").inner_text()
    assert "Refund not showing" in _row(page, first).inner_text()
    assert "pinned" in _row(page, first).inner_text()

    page.select_option("#merge-target", first)
    page.select_option("#merge-source", second)
    page.click("section[aria-label=Merge] button")
    page.wait_for_url(re.compile(r".*/ui/taxonomy\?done=.*"))
    assert _row(page, second).count() == 0  # merged: one theme now
    assert f"{second} → {first}" in page.locator("section[aria-label=Themes]").inner_text()

    contacts_before = _row(page, third).locator("td").nth(2).inner_text()
    page.select_option("#split-theme", third)
    page.click("section[aria-label=Split] button")
    page.wait_for_url(re.compile(r".*preview=E\d+.*"))
    preview = page.locator("#split-preview")
    assert "Nothing has changed yet" in preview.inner_text()
    assert preview.locator("tbody tr").count() == 2
    for part in range(2):  # each part quoted, not only its contact ids (the reviewer reads them)
        quotes = preview.locator("tbody tr").nth(part).locator("p.quote")
        assert quotes.count() >= 1
        assert re.fullmatch(r"“.{10,}” \S+", quotes.first.inner_text(), re.DOTALL)
    assert _row(page, third).locator("td").nth(2).inner_text() == contacts_before

    preview.locator("button").click()  # accept
    page.wait_for_url(re.compile(r".*/ui/taxonomy\?done=.*"))
    assert "Split accepted" in page.locator("p.done").inner_text()
    assert _row(page, third).count() == 0
    split_rows = page.locator("#taxonomy-themes tr", has_text="split")
    assert split_rows.count() == 2
    history = page.locator("section[aria-label=History]").inner_text()
    for action in ("rename", "merge", "split", "accept"):
        assert action in history
    assert "dana" in history and "clearer for managers" in history

    merge_row = page.locator("section[aria-label=History] tr", has_text=f"from {second}")
    merge_row.get_by_role("button", name=re.compile("Undo")).click()  # take the merge back
    page.wait_for_url(re.compile(r".*/ui/taxonomy\?done=.*"))
    assert "Took back" in page.locator("p.done").inner_text()
    assert _row(page, second).count() == 1  # two themes again
    assert "undone by" in page.locator("section[aria-label=History]").inner_text()

    page.goto(f"{base}/ui/")  # the week page reads the curated names
    page.goto(f"{base}/ui/themes/{first}")
    assert "Refund not showing" in page.locator("h1").inner_text()
    page.context.close()


def test_a_reader_cannot_edit(base: str, browser) -> None:
    page = _log_in(browser, base, READER)
    theme = _options(page, "#hide-theme")[0]
    page.select_option("#hide-theme", theme)
    page.click("section[aria-label='Move, hide'] form[action$=hide] button")
    assert "needs a writer key" in page.locator("p.error").inner_text()
    page.context.close()


def test_reason_codes_pasted_are_previewed_then_imported(base: str, browser) -> None:
    page = _log_in(browser, base, WRITER)
    themes_before = page.locator("#taxonomy-themes tbody tr").count()
    codes = ("label,description\n"
             "Refund still not received,waiting for my refund after returning the item\n"
             "Weather on Mars,rovers and dust storms\n")  # fmt: skip
    page.fill("#import-codes", codes)
    page.click("section[aria-label='Import reason codes'] button[name=dry_run]")
    preview = page.locator("#import-preview")
    # its own full-width card above the forms, not squeezed into the import form's grid cell
    assert page.locator("#import-preview-card:not(.grid *) #import-preview").count() == 1
    assert "nothing written" in page.locator("p.done").inner_text()
    assert preview.locator("tbody tr").count() == 2
    refund = preview.locator("tbody tr", has_text="Refund still not received")
    assert (
        "would create" in refund.inner_text() and int(refund.locator("td").nth(3).inner_text()) > 0
    )
    ladder = refund.locator("td").nth(4)  # what it would take at 0.3 / 0.4 / ... / 0.7
    assert ladder.get_attribute("data-label") == "At 0.3 / 0.4 / 0.5 / 0.6 / 0.7"
    counts = [int(n) for n in ladder.inner_text().split(" / ")]
    assert len(counts) == 5 and counts == sorted(counts, reverse=True) and counts[0] > 0
    assert page.locator("#taxonomy-themes tbody tr").count() == themes_before  # nothing written
    assert page.locator("#import-codes").input_value() == codes  # kept for the import
    assert "Themes no code covers" in page.locator("#import-not-covered").inner_text()

    page.click("section[aria-label='Import reason codes'] button:not([name])")
    page.wait_for_url(re.compile(r".*/ui/taxonomy\?done=.*"))
    assert "Imported 2 reason codes" in page.locator("p.done").inner_text()
    assert page.locator("#taxonomy-themes tbody tr").count() == themes_before + 2
    created = page.locator("#taxonomy-themes tr", has_text="Refund still not received")
    assert "create" in created.inner_text() and "pinned" in created.inner_text()
    # its description (the code's wording) beside its name, as for template and company notes
    assert "waiting for my refund after returning the item" in created.inner_text()
    history = page.locator("section[aria-label=History]").inner_text()
    assert "Weather on Mars" in history and "reason codes pasted on the taxonomy page" in history

    # codes made from an attribute the contacts carry (the demo's product_area)
    page.select_option("#import-attribute", "product_area")
    page.click("section[aria-label='Import reason codes'] button[name=dry_run]")
    assert "codes from 'product_area' would take" in page.locator("p.done").inner_text()
    coded = page.locator("#import-preview tbody tr").first.locator("td[data-label='Coded (taken)']")
    total, back = re.fullmatch(r"(\d+) \((\d+)\)", coded.inner_text()).groups()
    assert int(total) >= 5 and int(back) <= int(total)
    assert page.locator("#import-attribute").input_value() == "product_area"  # kept for Import
    page.fill("#import-min", "100000")
    page.click("section[aria-label='Import reason codes'] button[name=dry_run]")
    assert "no value of 'product_area' has 100000 contacts" in page.locator("p.error").inner_text()
    page.select_option("#import-attribute", "")

    page.fill("#import-codes", "label\nRefund late\nrefund  LATE\n")
    page.click("section[aria-label='Import reason codes'] button[name=dry_run]")
    assert (
        "line 3: 'refund LATE' is already the name of line 2"
        in page.locator("p.error").inner_text()
    )
    # a file chosen instead of the box: a broken .xls is refused, naming it, and the box kept
    legacy = {"name": "codes.xls", "mimeType": "application/vnd.ms-excel",
              "buffer": XLS_MAGIC + bytes(512)}  # fmt: skip
    page.set_input_files("#import-file", files=[legacy])
    page.click("section[aria-label='Import reason codes'] button[name=dry_run]")
    assert "codes.xls is not a readable spreadsheet" in page.locator("p.error").inner_text()
    assert page.locator("#import-codes").input_value() == "label\nRefund late\nrefund  LATE\n"
    page.context.close()


def test_a_downloaded_sheet_reviewed_and_pasted_back_is_previewed_then_applied(
    base: str, browser
) -> None:
    page = _log_in(browser, base, WRITER)
    got = page.context.request.get(f"{base}/ui/taxonomy/themes.csv")
    assert got.ok and got.headers["content-type"].startswith("text/csv")
    text = got.text().lstrip("\ufeff")
    sheet = list(csv.DictReader(io.StringIO(text)))
    assert list(sheet[0]) == ["theme_id", "label", "contacts", "parent_group", "flags",
                              "description", "merge_into"]  # fmt: skip
    assert {r["merge_into"] for r in sheet} == {""}
    assert len(sheet) == page.locator("#taxonomy-themes tbody tr").count()

    page.fill("#sheet-text", text)  # the download pasted back as it is
    page.click("section[aria-label='Review as a sheet'] button[name=dry_run]")
    assert "asks for 0 edits" in page.locator("p.done").inner_text()
    assert page.locator("#sheet-no-edit").count() == 1

    visible = [r for r in sheet if "hidden" not in r["flags"]]
    renamed, hidden = visible[-1], visible[-2]
    renamed["label"] = "Renamed in a sheet"
    hidden["flags"] = ", ".join(f for f in (hidden["flags"], "hidden") if f)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(sheet[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(sheet)
    page.fill("#sheet-text", out.getvalue())
    page.click("section[aria-label='Review as a sheet'] button[name=dry_run]")
    preview = page.locator("#sheet-preview")
    assert page.locator("#sheet-preview-card:not(.grid *) #sheet-preview").count() == 1
    assert preview.locator("tbody tr").count() == 2
    row = preview.locator(f"tr[data-theme={renamed['theme_id']}]")
    assert "Renamed in a sheet" in row.inner_text()
    assert "nothing written" in page.locator("p.done").inner_text()
    assert "Renamed in a sheet" not in _row(page, renamed["theme_id"]).inner_text()
    assert page.locator("#sheet-text").input_value() == out.getvalue()  # kept for Apply

    page.click("section[aria-label='Review as a sheet'] button:not([name])")
    page.wait_for_url(re.compile(r".*/ui/taxonomy\?done=.*"))
    assert "Applied the sheet: 2 edits" in page.locator("p.done").inner_text()
    assert "Renamed in a sheet" in _row(page, renamed["theme_id"]).inner_text()
    assert "hidden" in _row(page, hidden["theme_id"]).inner_text()
    assert (
        "theme sheet pasted on the taxonomy page"
        in page.locator("section[aria-label=History]").inner_text()
    )

    # the reviewer's spreadsheet saved as Excel does it (.xlsx), chosen instead of pasted
    import pandas as pd

    again = visible[-3]
    again["label"] = "Renamed in a workbook"
    book = io.BytesIO()
    pd.DataFrame(sheet).to_excel(book, index=False)
    page.fill("#sheet-text", "")
    page.set_input_files("#sheet-file", files=[{"name": "themes.xlsx", "mimeType": XLSX,
                                                "buffer": book.getvalue()}])  # fmt: skip
    page.click("section[aria-label='Review as a sheet'] button[name=dry_run]")
    assert "asks for 1 edit (" in page.locator("p.done").inner_text()
    assert page.locator(f"#sheet-preview tr[data-theme={again['theme_id']}]").count() == 1
    shown = page.locator("#sheet-text").input_value()  # the workbook's rows, as CSV, for Apply
    assert shown.startswith("theme_id,label,") and "Renamed in a workbook" in shown
    page.click("section[aria-label='Review as a sheet'] button:not([name])")
    page.wait_for_url(re.compile(r".*/ui/taxonomy\?done=.*"))
    said = page.locator("p.done").inner_text()
    assert re.search(r"Applied the sheet: 1 edit \(E\d{4}\)\.", said), said  # not "E7–E7"
    assert "Renamed in a workbook" in _row(page, again["theme_id"]).inner_text()
    history = page.locator("section[aria-label=History] tr", has_text="Renamed in a workbook")
    assert "theme sheet from themes.xlsx on the taxonomy page" in history.first.inner_text()
    when = history.first.locator("td[data-label=When]").inner_text()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} [A-Z+\-0-9]+", when), when

    page.fill("#sheet-text", "theme_id,label\nT9999,Nowhere\n")
    page.click("section[aria-label='Review as a sheet'] button[name=dry_run]")
    assert "line 2: no theme 'T9999'" in page.locator("p.error").inner_text()
    page.context.close()


CASES = "section[aria-labelledby=ex] ol.cases li"  # the example cases, not the repeat chains


def test_a_case_filed_under_another_theme_from_its_theme_page(base: str, browser) -> None:
    """A writer reading a theme's example cases files a misplaced one under another theme: the
    case's link opens the Taxonomy page with the contact filled in, the counts move by one,
    the history says who and why, the case leaves the theme's page, and undo takes it back."""
    page = _log_in(browser, base, WRITER)
    counts = {
        r.get_attribute("data-theme"): int(r.locator("td").nth(2).inner_text())
        for r in page.locator("#taxonomy-themes tbody tr").all()
        if "hidden" not in r.inner_text()
    }
    source = max(counts, key=lambda t: counts[t])  # the most contacts: cases in the last week
    target = next(t for t in counts if t != source)
    page.goto(f"{base}/ui/themes/{source}")
    case = page.locator(CASES).first
    contact = case.locator("p.meta").inner_text().split(" · ")[0].strip()
    case.locator("a.refile").click()
    page.wait_for_url(re.compile(r".*/ui/taxonomy\?reassign=.*"))
    assert page.input_value("#reassign-contacts") == contact
    assert f"now in {source}" in page.locator("label[for=reassign-contacts]").inner_text()
    page.select_option("#reassign-theme", target)
    page.fill("#reassign-why", "asks about the other problem")
    page.click("section#reassign button:not([name])")
    page.wait_for_url(re.compile(r".*/ui/taxonomy\?done=.*"))
    assert f"Filed 1 of 1 contact under {target}" in page.locator("p.done").inner_text()
    page.fill("#reassign-contacts", f"C-nope, {contact}")  # a typo: named, and the form is kept
    page.select_option("#reassign-theme", source)
    page.click("section#reassign button:not([name])")
    assert "no contact C-nope" in page.locator("p.error").inner_text()
    assert page.input_value("#reassign-theme") == source
    assert page.input_value("#reassign-contacts") == f"C-nope, {contact}"
    assert int(_row(page, source).locator("td").nth(2).inner_text()) == counts[source] - 1
    assert int(_row(page, target).locator("td").nth(2).inner_text()) == counts[target] + 1
    row = page.locator("section[aria-label=History] tr", has_text="reassign").first
    assert contact in row.inner_text() and "dana" in row.inner_text()
    assert "asks about the other problem" in row.inner_text()

    page.goto(f"{base}/ui/themes/{source}")  # the case is no longer this theme's
    metas = page.locator(f"{CASES} p.meta").all_inner_texts()
    assert not any(m.split(" · ")[0].strip() == contact for m in metas)

    page.goto(f"{base}/ui/taxonomy")
    row = page.locator("section[aria-label=History] tr", has_text="reassign").first
    row.get_by_role("button", name=re.compile("Undo")).click()
    page.wait_for_url(re.compile(r".*/ui/taxonomy\?done=.*"))
    assert int(_row(page, source).locator("td").nth(2).inner_text()) == counts[source]

    # filed again with "and contacts like them": the page says how many followed, the history
    # says it taught, and its undo gives every one of them back
    page.fill("#reassign-contacts", contact)
    page.select_option("#reassign-theme", target)
    page.check("#reassign-teach")
    page.click("section#reassign button[name=dry_run]")  # the preview says who would follow
    ahead = re.search(r"(\d+) more contacts? like them would follow",
                      page.locator("p.done").inner_text())  # fmt: skip
    assert ahead and page.is_checked("#reassign-teach"), page.locator("p.done").inner_text()
    page.click("section#reassign button:not([name])")
    page.wait_for_url(re.compile(r".*/ui/taxonomy\?done=.*"))
    said = page.locator("p.done").inner_text()
    learnt = re.search(rf"Filed 1 of 1 contact under {target}, and (\d+) more contacts? like them",
                       said)  # fmt: skip
    assert learnt and learnt.group(1) == ahead.group(1), said
    gained = int(_row(page, target).locator("td").nth(2).inner_text()) - counts[target]
    assert gained == 1 + int(learnt.group(1))
    row = page.locator("section[aria-label=History] tr", has_text="reassign").first
    assert "and contacts like them" in row.inner_text()
    row.get_by_role("button", name=re.compile("Undo")).click()
    page.wait_for_url(re.compile(r".*/ui/taxonomy\?done=.*"))
    assert int(_row(page, target).locator("td").nth(2).inner_text()) == counts[target]

    # the theme page's cases CSV, one theme_id corrected, pasted back: that case alone moves
    got = page.context.request.get(f"{base}/ui/themes/{source}/examples.csv")
    cases = list(csv.DictReader(io.StringIO(got.text().lstrip("\ufeff"))))
    assert {c["theme_id"] for c in cases} == {source}
    cases[-1]["theme_id"] = target
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(cases[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(cases)
    page.fill("#reassign-contacts", out.getvalue())
    page.click("section#reassign button[name=dry_run]")  # a preview writes nothing
    assert "1 contact would move" in page.locator("p.done").inner_text()
    assert page.locator("#cases-preview tbody tr").count() == 1
    assert int(_row(page, target).locator("td").nth(2).inner_text()) == counts[target]
    page.click("section#reassign button:not([name])")  # the pasted text is still there
    page.wait_for_url(re.compile(r".*/ui/taxonomy\?done=.*"))
    assert "Filed 1 contact in 1 edit" in page.locator("p.done").inner_text()
    assert int(_row(page, target).locator("td").nth(2).inner_text()) == counts[target] + 1
    row = page.locator("section[aria-label=History] tr", has_text="reassign").first
    row.get_by_role("button", name=re.compile("Undo")).click()  # and again, teaching
    page.wait_for_url(re.compile(r".*/ui/taxonomy\?done=.*"))
    page.fill("#reassign-contacts", out.getvalue())
    page.check("#reassign-teach")
    page.click("section#reassign button:not([name])")
    page.wait_for_url(re.compile(r".*/ui/taxonomy\?done=.*"))
    said = page.locator("p.done").inner_text()
    learnt = re.search(r"Filed 1 contact in 1 edit \(E\d+\), and (\d+) more contacts? like them",
                       said)  # fmt: skip
    assert learnt, said
    gained = int(_row(page, target).locator("td").nth(2).inner_text()) - counts[target]
    assert gained == 1 + int(learnt.group(1))
    page.context.close()

    reader = _log_in(browser, base, READER)  # a reader sees no link to edit
    reader.goto(f"{base}/ui/themes/{source}")
    assert reader.locator(CASES).count() and not reader.locator("a.refile").count()
    reader.context.close()
