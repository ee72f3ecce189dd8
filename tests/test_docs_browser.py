"""The Swagger UI at ``/docs`` works in a real browser without internet access.

A real server (``python -m app.cli serve``) runs on a free port of 127.0.0.1 and a
headless Chromium opens ``/docs`` once, with every host name other than
127.0.0.1 made unresolvable (``--host-resolver-rules``), so nothing can come from
a CDN. From that one run the test checks that

* the page rendered: the DOM after the scripts ran holds the operations (their
  paths and summaries) and the Authorize button, which only Swagger UI's
  JavaScript, loaded from ``/static-offline-docs/``, can have put there;
* the page asked for nothing outside the service: Chromium's network log
  (``--log-net-log``) lists every URL request; each one made on behalf of the
  page (its network isolation key is the page's site, or its initiator is the
  service's origin) must be for the service's own origin. Chromium's own
  background requests (update checks, time queries) carry no such key and
  are left out;
* the server itself answered the stylesheet, the script and ``/openapi.json``
  with 200 (its access log).

A second test reads the served HTML and asserts that every ``src``/``href`` in it
is a same-origin path, which needs no browser.

Without Chromium (``chromium`` on PATH or /usr/bin/chromium) the browser test is
skipped, unless ``CI`` is set: then it fails, because CI installs Chromium.
"""

import re
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from tests.browser import AIR_GAPPED_FLAGS, installed, page_requests, same_origin
from tests.servers import Server, http, serve

pytestmark = pytest.mark.slow

BROWSER_TIMEOUT = 60.0
# Swagger UI's own files, which fastapi-offline serves from the service.
OWN_ASSETS = ("/static-offline-docs/swagger-ui.css", "/static-offline-docs/swagger-ui-bundle.js")
CHROMIUM_FLAGS = (
    "--headless",
    *AIR_GAPPED_FLAGS,
    "--virtual-time-budget=10000",  # let the scripts run and fetch /openapi.json
    "--window-size=1280,2000",
)


@dataclass
class BrowserRun:
    dom: str
    page_requests: list[str]  # URLs requested on behalf of the page
    screenshot: Path


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: list[str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    @property
    def content(self) -> str:
        return " ".join("".join(self.text).split())


class _Elements(HTMLParser):
    """Every element of a document with its attributes and its text content."""

    VOID = frozenset(
        {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self._open: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.elements.append(element)
        if tag not in self.VOID:
            self._open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self._open) - 1, -1, -1):
            if self._open[depth].tag == tag:
                del self._open[depth:]
                return

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text.append(data)


def elements(html: str) -> list[Element]:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.elements


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("docs-server")) as running:
        yield running


@pytest.fixture(scope="module")
def chromium() -> str:
    return installed("chromium")


def run_browser(chromium: str, url: str, folder: Path) -> BrowserRun:
    """Open ``url`` once in headless Chromium, external hosts unresolvable."""
    netlog = folder / "netlog.json"
    screenshot = folder / "docs.png"
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        result = subprocess.run(
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--log-net-log={netlog}",
                f"--screenshot={screenshot}",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=BROWSER_TIMEOUT,
            check=False,
        )
    assert result.returncode == 0, f"chromium failed ({result.returncode}):\n{result.stderr}"
    return BrowserRun(
        dom=result.stdout, page_requests=page_requests(netlog, url), screenshot=screenshot
    )


@pytest.fixture(scope="module")
def browser_run(
    chromium: str, server: Server, tmp_path_factory: pytest.TempPathFactory
) -> BrowserRun:
    return run_browser(chromium, f"{server.origin}/docs", tmp_path_factory.mktemp("browser"))


def test_docs_html_refers_only_to_the_service(server: Server) -> None:
    status, html = http("GET", f"{server.origin}/docs")
    assert status == 200
    references = [
        value
        for element in elements(html)
        for name, value in element.attrs.items()
        if name in {"src", "href"}
    ]
    references += re.findall(r"""\burl:\s*['"]([^'"]+)['"]""", html)  # the OpenAPI document
    assert set(OWN_ASSETS) <= set(references)
    assert "/openapi.json" in references
    absolute = [urljoin(server.origin, ref) for ref in references]
    outside = [url for url in absolute if not same_origin(url, server.origin)]
    assert outside == []


def test_docs_render_in_a_browser_without_internet(browser_run: BrowserRun) -> None:
    page = elements(browser_run.dom)
    paths = {element.attrs["data-path"] for element in page if "data-path" in element.attrs}
    assert {"/resolve", "/entities", "/admin/entities", "/admin/import", "/readyz"} <= paths
    summaries = {
        element.content for element in page if "opblock-summary-description" in element.classes
    }
    assert {"Resolve one mention", "Resolve many mentions", "Add an entity"} <= summaries
    authorize = [
        element for element in page if element.tag == "button" and "authorize" in element.classes
    ]
    assert [button.content for button in authorize] == ["Authorize"]
    assert browser_run.screenshot.stat().st_size > 10_000


def test_docs_page_requests_nothing_outside_the_service(
    browser_run: BrowserRun, server: Server
) -> None:
    requested = browser_run.page_requests
    outside = [url for url in requested if not same_origin(url, server.origin)]
    assert outside == []
    paths = {urlsplit(url).path for url in requested}
    assert {"/docs", *OWN_ASSETS, "/openapi.json"} <= paths
    served = server.access_log()
    for path in (*OWN_ASSETS, "/openapi.json"):
        assert re.search(rf'"GET {re.escape(path)} HTTP/1\.1" 200\b', served), path
