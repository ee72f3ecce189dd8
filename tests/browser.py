"""Headless Chromium for the tests that open the Swagger UI, kept off the internet.

Every host name but 127.0.0.1 is unresolvable (``--host-resolver-rules``), so
a page can load nothing from a CDN, and Chromium's network log
(``--log-net-log``) tells which URLs a page asked for.
"""

import json
import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.servers import HOST

# Flags for any run of Chromium in the tests, headless or driven.
AIR_GAPPED_FLAGS = (
    "--no-sandbox",  # needed as root and in most CI containers
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Chromium's own questions about a form the page shows: not the page's
    # requests, but its network log would file them under the page.
    "--disable-features=AutofillServerCommunication",
    f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {HOST}",
)


def installed(program: str) -> str:
    """Where Debian installed ``program`` (on PATH or in /usr/bin).

    Missing, the test is skipped, unless ``CI`` is set: CI installs the
    browser, so there a missing one is a failure.
    """
    fallback = Path("/usr/bin") / program
    found = shutil.which(program) or (str(fallback) if os.access(fallback, os.X_OK) else None)
    if found is None:
        reason = f"{program} is not installed (no `{program}` on PATH, no {fallback})"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI is set, so the browser check must run")
        pytest.skip(reason)
    return found


def artifacts_folder(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """Where a test keeps what a person may want to look at after the run.

    ``$TEST_ARTIFACTS/name`` when ``TEST_ARTIFACTS`` is set (CI sets it to a
    folder of the clone), else a folder of pytest's own temporary tree.
    """
    root = os.environ.get("TEST_ARTIFACTS")
    if not root:
        return tmp_path_factory.mktemp(name)
    folder = Path(root).resolve() / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def page_requests(netlog: Path, page_url: str) -> list[str]:
    """The URLs Chromium requested on behalf of the page at ``page_url``.

    Those are the requests whose network isolation key names the page's site
    (scheme and host, no port), or whose initiator is the page's origin, so
    Chromium's own background requests are left out.
    """
    page = urlsplit(page_url)
    site = f"{page.scheme}://{page.hostname}"
    origin = f"{page.scheme}://{page.netloc}"
    log = json.loads(netlog.read_text(encoding="utf-8"))
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = []
    for event in log["events"]:
        params = event.get("params") or {}
        if event["type"] != start_job or "url" not in params:
            continue
        key = params.get("network_isolation_key", "").split()
        if site in key or params.get("initiator") == origin:
            urls.append(params["url"])
    return urls


def same_origin(url: str, origin: str) -> bool:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" == origin
