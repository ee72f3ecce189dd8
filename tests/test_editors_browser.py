"""An editor's round trip through the Swagger UI at ``/docs``, in headless Chromium.

A real server runs with one named editor (``ADMIN_TOKENS=alice:<token>``), and
Selenium drives the system's Chromium through the system's chromedriver (its
path is given, so nothing is looked for or downloaded). As an editor would,
the test authorises with alice's token, adds an alias to ``ttp`` with "Try it
out", finds the change under alice's name in ``GET /admin/history`` and
reverts it there, while ``/resolve`` over plain HTTP tells that the alias came
and went. Operations are found by their method and path as the page shows
them, not by their operation IDs.

As in ``test_docs_browser.py``, every host but 127.0.0.1 is unresolvable and
Chromium's network log shows that the page asked nothing of any other origin.
Screenshots after the alias was added and after the revert are kept in
``$TEST_ARTIFACTS/editors-browser`` (a pytest temporary folder without it).

Without Chromium or chromedriver the test is skipped, unless ``CI`` is set:
then it fails.
"""

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as shown
from selenium.webdriver.support.wait import WebDriverWait

from tests.browser import AIR_GAPPED_FLAGS, artifacts_folder, installed, page_requests, same_origin
from tests.servers import Server, resolved_id, serve

pytestmark = pytest.mark.slow

EDITOR = "alice"
TOKEN = secrets.token_urlsafe(24)
ENTITY = "ttp"
# A spelling no entity of the shipped table has, nor anything close to it.
NEW_ALIAS = "Qarvandi Zhalmay Tanzeem"
# Generous for a busy 2-core machine, but a hung page still fails the test.
WAIT_SECONDS = 30
ADD_ALIAS = ("POST", "/admin/entities/{entity_id}/aliases")
HISTORY = ("GET", "/admin/history")
REVERT = ("POST", "/admin/history/{change_id}/revert")


@pytest.fixture(scope="module")
def chromium() -> str:
    return installed("chromium")


@pytest.fixture(scope="module")
def chromedriver() -> str:
    return installed("chromedriver")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("editors-server")
    with serve(folder, ADMIN_TOKENS=f"{EDITOR}:{TOKEN}", ADMIN_TOKEN="") as running:
        yield running


@contextmanager
def driven_chromium(chromium: str, chromedriver: str, netlog: Path) -> Iterator[WebDriver]:
    """Headless Chromium under the given chromedriver; its network log is complete
    once the block has ended."""
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        *AIR_GAPPED_FLAGS,
        "--window-size=1280,1600",
        f"--log-net-log={netlog}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait(driver: WebDriver) -> WebDriverWait[WebDriver]:
    return WebDriverWait(driver, WAIT_SECONDS)


def authorize(driver: WebDriver, token: str) -> None:
    """Authorize, paste the token, apply it and close the dialog, as an editor does."""
    wait(driver).until(shown.element_to_be_clickable((By.CSS_SELECTOR, ".btn.authorize"))).click()
    dialog = wait(driver).until(
        shown.visibility_of_element_located((By.CSS_SELECTOR, ".dialog-ux"))
    )
    dialog.find_element(By.ID, "auth-bearer-value").send_keys(token)
    dialog.find_element(By.CSS_SELECTOR, ".auth-btn-wrapper .btn.authorize").click()
    # Once applied, the dialog offers Logout where it offered Authorize.
    wait(driver).until(
        shown.text_to_be_present_in_element((By.CSS_SELECTOR, ".auth-btn-wrapper"), "Logout")
    )
    dialog.find_element(By.CSS_SELECTOR, ".auth-btn-wrapper .btn-done").click()
    wait(driver).until(shown.invisibility_of_element_located((By.CSS_SELECTOR, ".dialog-ux")))
    wait(driver).until(
        shown.presence_of_element_located((By.CSS_SELECTOR, ".btn.authorize.locked"))
    )


def open_operation(driver: WebDriver, method: str, path: str) -> WebElement:
    """Expand the operation shown as ``method path`` and make it ready to try out."""
    shows_method = f"contains(@class, 'opblock-summary-method') and normalize-space()='{method}'"
    block = wait(driver).until(
        shown.presence_of_element_located(
            (
                By.XPATH,
                "//div[contains(concat(' ', @class, ' '), ' opblock ')]"
                f"[.//*[{shows_method}]][.//*[@data-path='{path}']]",
            )
        )
    )
    if "is-open" not in (block.get_attribute("class") or "").split():
        block.find_element(By.CSS_SELECTOR, ".opblock-summary-control").click()
    try_out = wait(driver).until(lambda _: block.find_element(By.CSS_SELECTOR, ".try-out__btn"))
    # The service opens every operation ready to try (tryItOutEnabled): then
    # the button already offers Cancel.
    if "cancel" not in (try_out.get_attribute("class") or "").split():
        try_out.click()
    wait(driver).until(lambda _: block.find_element(By.CSS_SELECTOR, ".btn.execute"))
    return block


def replace_text(field: WebElement, text: str) -> None:
    """Type ``text`` over what the field holds; leaving it tells the page at once."""
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(Keys.DELETE, text, Keys.TAB)


def fill_parameter(block: WebElement, name: str, value: str) -> None:
    replace_text(block.find_element(By.CSS_SELECTOR, f'tr[data-param-name="{name}"] input'), value)


def fill_body(block: WebElement, body: dict[str, Any]) -> None:
    replace_text(block.find_element(By.CSS_SELECTOR, "textarea.body-param__text"), json.dumps(body))


def execute(driver: WebDriver, block: WebElement) -> tuple[int, Any]:
    """Press Execute; the status and the JSON body the response panel shows."""
    block.find_element(By.CSS_SELECTOR, ".btn.execute").click()
    status = wait(driver).until(
        lambda _: block.find_element(
            By.CSS_SELECTOR, ".live-responses-table .response .response-col_status"
        )
    )
    shown_body = block.find_element(
        By.XPATH,
        ".//*[contains(@class, 'live-responses-table')]"
        "//h5[normalize-space()='Response body']/following-sibling::*[1]//pre",
    )
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", status)
    return int(status.text.split()[0]), json.loads(shown_body.get_attribute("textContent") or "")


def screenshot(
    driver: WebDriver, folder: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> Path:
    path = folder / name
    assert driver.save_screenshot(str(path)), path
    with capsys.disabled():
        print(f"\nscreenshot: {path}")
    return path


def test_an_editor_adds_an_alias_in_the_swagger_ui_sees_it_in_the_history_and_reverts_it(
    server: Server,
    chromium: str,
    chromedriver: str,
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    artifacts = artifacts_folder(tmp_path_factory, "editors-browser")
    netlog = tmp_path_factory.mktemp("editors-netlog") / "netlog.json"
    page = f"{server.origin}/docs"
    assert resolved_id(server, NEW_ALIAS) is None

    with driven_chromium(chromium, chromedriver, netlog) as driver:
        driver.get(page)
        authorize(driver, TOKEN)

        adding = open_operation(driver, *ADD_ALIAS)
        fill_parameter(adding, "entity_id", ENTITY)
        fill_body(adding, {"text": NEW_ALIAS, "note": "added in the browser"})
        status, alias = execute(driver, adding)
        added_screenshot = screenshot(driver, artifacts, "alias-added.png", capsys)
        assert (status, alias["text"]) == (201, NEW_ALIAS)
        assert resolved_id(server, NEW_ALIAS) == ENTITY

        listing = open_operation(driver, *HISTORY)
        status, page_of_history = execute(driver, listing)
        assert status == 200
        change = page_of_history["changes"][0]
        assert (change["editor"], change["action"], change["entity_id"]) == (
            EDITOR,
            "add_alias",
            ENTITY,
        )
        assert alias["id"] in {each["id"] for each in change["after"]["aliases"]}
        assert alias["id"] not in {each["id"] for each in change["before"]["aliases"]}

        reverting = open_operation(driver, *REVERT)
        fill_parameter(reverting, "change_id", str(change["id"]))
        status, revert = execute(driver, reverting)
        reverted_screenshot = screenshot(driver, artifacts, "alias-reverted.png", capsys)
        assert status == 200
        assert [
            (each["editor"], each["action"], each["reverts"]) for each in revert["changes"]
        ] == [(EDITOR, "revert", change["id"])]
        assert resolved_id(server, NEW_ALIAS) is None

    for kept in (added_screenshot, reverted_screenshot):
        assert kept.stat().st_size > 10_000
    requested = page_requests(netlog, page)
    outside = [url for url in requested if not same_origin(url, server.origin)]
    assert outside == [], "\n".join(outside)
    assert {"/admin/entities/ttp/aliases", "/admin/history"} <= {
        urlsplit(url).path for url in requested
    }
