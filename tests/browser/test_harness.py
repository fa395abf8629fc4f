"""The browser harness sees what the report page test relies on: a page that breaks a rule
(a network request, a page too wide for a phone, a script error) is reported as breaking it."""

from __future__ import annotations

from pathlib import Path

from tests.browser.browser import PHONE_WIDTH, open_page

HEAD = '<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'


def _write(tmp_path: Path, body: str, head: str = HEAD) -> Path:
    page = tmp_path / "page.html"
    page.write_text(
        f"<!doctype html><html><head>{head}<title>t</title></head><body>{body}</body></html>",
        encoding="utf-8",
    )
    return page


def test_a_plain_page_makes_no_request_but_its_own_and_fits_a_phone(tmp_path: Path) -> None:
    page = _write(tmp_path, '<table><tr><td data-lab="qa" data-version="3">v3</td></tr></table>')
    shot = tmp_path / "shot.png"

    seen = open_page(page, select=["td[data-lab]"], screenshot=shot)

    assert set(seen.requests) == {page.as_uri()}
    assert seen.errors == []
    assert not seen.phone.overflowing
    assert seen.phone.scroll_width <= PHONE_WIDTH
    assert [(e.text, e.data) for e in seen.selected["td[data-lab]"]] == [
        ("v3", {"lab": "qa", "version": "3"})
    ]
    assert shot.read_bytes().startswith(b"\x89PNG")


def test_an_external_asset_a_wide_element_and_a_script_error_are_seen(tmp_path: Path) -> None:
    page = _write(
        tmp_path,
        '<img src="https://example.invalid/logo.png" alt="">'
        '<div style="width: 800px">wide</div><script>undefinedFunction()</script>',
    )

    seen = open_page(page)

    assert "https://example.invalid/logo.png" in seen.requests
    assert seen.phone.overflowing
    assert seen.phone.scroll_width > PHONE_WIDTH
    assert any("undefinedFunction" in error for error in seen.errors)


def test_a_page_without_a_viewport_tag_overflows_on_a_phone(tmp_path: Path) -> None:
    page = _write(tmp_path, "<p>short</p>", head='<meta charset="utf-8">')

    assert open_page(page).phone.overflowing
