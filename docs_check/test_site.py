"""The built documentation as a reader sees it in Chromium: pages render without JavaScript
errors, their images load, and internal links and anchors lead somewhere. The tests on small
synthetic sites show that each check catches what it is meant to catch.

Run by `make check-site`, which builds the site first."""

import base64
import pathlib

import pytest

from docs_check.site_check import (
    broken_anchors,
    broken_links,
    render_problems,
    serve,
)

EXAMPLES = sorted((pathlib.Path(__file__).resolve().parents[1] / "examples").glob("*.py"))

# page of the built site -> the fewest images it must show
PAGES = {
    "index.html": 0,
    "api/neurons/index.html": 0,
    "tutorials/01_quick_start/index.html": 1,
    "gallery/index.html": len(EXAMPLES),
}


@pytest.mark.parametrize("page", PAGES, ids=[page.split("/")[0] for page in PAGES])
def test_page_renders_without_errors_and_with_its_images(site, browser, page):
    with serve(site) as base:
        problems = render_problems(browser, base + page)
    assert problems.page_errors == []
    assert problems.console_errors == []
    assert problems.broken_images == []
    assert problems.external_requests == []
    assert problems.images >= PAGES[page]


def test_every_internal_link_of_the_site_points_to_a_file(site):
    assert len(list(site.rglob("*.html"))) > 50
    assert broken_links(site) == []


def test_every_anchor_linked_in_the_site_exists(site):
    assert [
        broken for page in sorted(site.rglob("*.html")) for broken in broken_anchors(site, page)
    ] == []


def _site(tmp_path, body, **files):
    """A one-page site in `tmp_path` whose index.html has `body`, plus `files`."""
    (tmp_path / "index.html").write_text(f"<!doctype html><html><body>{body}</body></html>")
    for name, text in files.items():
        (tmp_path / name.replace("__", ".")).write_text(text)
    return tmp_path


def _png(tmp_path):
    """A 1x1 PNG `dot.png` in `tmp_path`."""
    (tmp_path / "dot.png").write_bytes(
        base64.b64decode(
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJ"
            "RU5ErkJggg=="
        )
    )


def test_a_sound_page_has_no_problems(tmp_path, browser):
    _png(tmp_path)
    site = _site(
        tmp_path,
        '<h1 id="top">Hi</h1><img src="dot.png"><a href="other.html#part">on</a>'
        '<a href="#top">up</a><script src="app.js"></script>',
        other__html='<html><body><h2 id="part">Part</h2></body></html>',
        app__js="document.title = 'fine';",
    )
    with serve(site) as base:
        problems = render_problems(browser, base + "index.html")
    assert problems.page_errors == problems.console_errors == problems.broken_images == []
    assert problems.external_requests == []
    assert problems.images == 1
    assert broken_links(site) == []
    assert broken_anchors(site, site / "index.html") == []


def test_a_javascript_error_is_reported(tmp_path, browser):
    site = _site(tmp_path, "<script>undefinedFunction();</script>")
    with serve(site) as base:
        problems = render_problems(browser, base + "index.html")
    assert len(problems.page_errors) == 1
    assert "undefinedFunction" in problems.page_errors[0]


def test_a_console_error_and_a_missing_script_are_reported(tmp_path, browser):
    site = _site(tmp_path, '<script>console.error("bad state")</script><script src="gone.js">')
    with serve(site) as base:
        problems = render_problems(browser, base + "index.html")
    assert problems.page_errors == []
    assert any("bad state" in message for message in problems.console_errors)
    assert any("gone.js" in message for message in problems.console_errors)


def test_an_image_that_does_not_load_is_reported(tmp_path, browser):
    _png(tmp_path)
    site = _site(tmp_path, '<img src="dot.png"><img src="missing.png">')
    with serve(site) as base:
        problems = render_problems(browser, base + "index.html")
    assert problems.images == 2
    assert problems.broken_images == ["missing.png"]


def test_a_request_to_another_host_is_blocked_and_reported(tmp_path, browser):
    site = _site(tmp_path, '<script src="https://example.org/tracker.js"></script>')
    with serve(site) as base:
        problems = render_problems(browser, base + "index.html")
    assert problems.external_requests == ["https://example.org/tracker.js"]


def test_a_link_to_a_missing_file_is_reported(tmp_path):
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "index.html").write_text('<a href="../index.html">home</a>')
    site = _site(
        tmp_path,
        '<a href="api/">api</a><a href="nowhere/">x</a><link href="style.css">'
        '<a href="https://example.org/">out</a>',
    )
    assert broken_links(site) == ["index.html: nowhere/", "index.html: style.css"]


def test_a_link_to_a_missing_anchor_is_reported(tmp_path):
    site = _site(
        tmp_path,
        '<h1 id="here">x</h1><a href="#here">ok</a><a href="#gone">bad</a>'
        '<a href="other.html#there">ok</a><a href="other.html#elsewhere">bad</a>',
        other__html='<h2 id="there">y</h2>',
    )
    assert broken_anchors(site, site / "index.html") == [
        "index.html: #gone",
        "index.html: other.html#elsewhere",
    ]


def test_mathjax_from_its_cdn_is_blocked_without_an_error_and_others_still_count(
    tmp_path, browser
):
    site = _site(
        tmp_path,
        '<script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js"></script>'
        '<script>console.error("the page itself")</script>',
    )
    with serve(site) as base:
        problems = render_problems(browser, base + "index.html")
    assert problems.external_requests == []
    assert [message.split(" (")[0] for message in problems.console_errors] == ["the page itself"]
