"""What a reader of the built documentation would run into: a page's JavaScript errors, images
that do not load, requests to other hosts, and internal links or anchors that lead nowhere.

`serve` puts a built site on a local HTTP server (the search plugin fetches its index, which a
`file://` page cannot); `render_problems` loads one page in headless Chromium and lists what
went wrong; `broken_links` and `broken_anchors` read the built HTML files.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import html.parser
import http.server
import pathlib
import threading
import urllib.parse

# Hosts a page may load from besides the local server: the tutorials typeset their equations
# with MathJax from this CDN (mkdocs-jupyter's default). The checks block every other host's
# requests, so that they pass or fail the same with or without a network.
ALLOWED_HOSTS = frozenset({"cdnjs.cloudflare.com"})


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


@contextlib.contextmanager
def serve(directory: pathlib.Path):
    """Serve `directory` over HTTP on a free local port; yield its base URL (ending in /)."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclasses.dataclass
class PageProblems:
    """What went wrong while a page loaded; all lists empty for a page that renders."""

    page_errors: list[str]  # uncaught JavaScript exceptions
    console_errors: list[str]  # console.error messages, failed loads of local resources included
    broken_images: list[str]  # <img> whose image did not load (naturalWidth 0)
    external_requests: list[str]  # requests to hosts outside ALLOWED_HOSTS (blocked)
    images: int  # number of <img> elements on the page


def render_problems(browser, url: str) -> PageProblems:
    """Load `url` in a new page of the Playwright `browser` until the network is idle."""
    page = browser.new_page()
    local = urllib.parse.urlsplit(url).netloc
    page_errors, console_errors, external, blocked = [], [], [], set()

    def route(request_route):
        host = urllib.parse.urlsplit(request_route.request.url).netloc
        if host == local or request_route.request.url.startswith("data:"):
            request_route.continue_()
            return
        blocked.add(request_route.request.url)
        if host not in ALLOWED_HOSTS:
            external.append(request_route.request.url)
        request_route.abort()

    def console(message):
        # a blocked request to an allowed host is the network's absence, not the page's fault
        if message.type == "error" and message.location.get("url") not in blocked:
            console_errors.append(f"{message.text} ({message.location.get('url')})")

    page.route("**/*", route)
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.on("console", console)
    try:
        page.goto(url, wait_until="networkidle")
        images = page.eval_on_selector_all(
            "img", "images => images.map(i => [i.getAttribute('src'), i.naturalWidth])"
        )
    finally:
        page.close()
    return PageProblems(
        page_errors=page_errors,
        console_errors=console_errors,
        broken_images=[str(src)[:200] for src, width in images if width == 0],
        external_requests=external,
        images=len(images),
    )


class _LinksAndIds(html.parser.HTMLParser):
    """Collects the href/src targets of a page and the ids (and anchor names) it defines."""

    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name in ("href", "src"):
            if attributes.get(name):
                self.links.append(attributes[name])
        for name in ("id",) + (("name",) if tag == "a" else ()):
            if attributes.get(name):
                self.ids.add(attributes[name])


@functools.cache
def _parse(path: pathlib.Path) -> _LinksAndIds:
    parser = _LinksAndIds()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _internal_targets(site: pathlib.Path, page: pathlib.Path):
    """(link, target file or None if missing, fragment) for each link of `page` that stays in
    `site`."""
    base = "/" + page.relative_to(site).as_posix()
    for link in _parse(page).links:
        parts = urllib.parse.urlsplit(urllib.parse.urljoin(base, link))
        if parts.scheme or parts.netloc:
            continue
        target = site / urllib.parse.unquote(parts.path).lstrip("/")
        if target.is_dir():
            target = target / "index.html"
        yield link, (target if target.is_file() else None), urllib.parse.unquote(parts.fragment)


def broken_links(site: pathlib.Path) -> list[str]:
    """Every internal href/src in the HTML files of `site` that points to no file."""
    return [
        f"{page.relative_to(site)}: {link}"
        for page in sorted(site.rglob("*.html"))
        for link, target, _ in _internal_targets(site, page)
        if target is None
    ]


def broken_anchors(site: pathlib.Path, page: pathlib.Path) -> list[str]:
    """Links of `page` to `#fragment`s that their target HTML file does not define."""
    return [
        f"{page.relative_to(site)}: {link}"
        for link, target, fragment in _internal_targets(site, page)
        if target is not None
        and fragment
        and target.suffix == ".html"
        and fragment not in _parse(target).ids
    ]
