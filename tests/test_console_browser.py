"""The console in a real browser: headless Chromium driven by Selenium against a mock on a
free loopback port. The browser reaches nothing but 127.0.0.1 (every other host resolves to
nothing). The tests also take the README's screenshots: ``CHATMOCK_SCREENSHOTS=1 pytest
tests/test_console_browser.py`` writes them to ``docs/console-*.png``.

They skip with one line when Chromium, chromedriver or Selenium is missing
(``apt-get install chromium chromium-driver``, ``pip install selenium``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver.app import ChatMockApp, create_app
from mockserver.background import BackgroundServer
from mockserver.core.call import JsonReply

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
DOCS = Path(__file__).resolve().parent.parent / "docs"
BOCCO_FAMILY = "FA000000-0000-4000-8000-000000000001"

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    HAVE_SELENIUM = True
except ImportError:  # pragma: no cover - the skip below says so
    HAVE_SELENIUM = False

if not HAVE_SELENIUM or CHROMIUM is None or CHROMEDRIVER is None:
    pytest.skip(
        "console browser tests need chromium, chromedriver and selenium (apt-get install chromium chromium-driver; pip install selenium)",
        allow_module_level=True,
    )


@pytest.fixture(scope="module")
def mock() -> Iterator[tuple[ChatMockApp, str]]:
    app = create_app(strict=True, longpoll_timeout=5.0)
    server = BackgroundServer(app).start()
    try:
        yield app, server.url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser(mock: tuple[ChatMockApp, str]) -> Iterator[Any]:
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not look anything up
    profile = tempfile.mkdtemp(prefix="chatmock-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-sync",
        "--disable-component-update",
        "--disable-default-apps",
        "--no-proxy-server",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--disable-dev-shm-usage",
        "--window-size=1200,760",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait(condition: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = condition()
        except Exception:  # an element not there yet
            found = None
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def open_console(driver: Any, origin: str, app: ChatMockApp) -> None:
    httpx.post(f"{origin}/__chatmock/reset")
    app.state.chatmock.settings.strict = True
    driver.get(f"{origin}/__chatmock/")
    wait(lambda: driver.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "1", 10, "the console to start")
    wait(lambda: driver.find_element(By.ID, "live").text == "live", 5, "the event stream")


def tab(driver: Any, name: str) -> None:
    driver.find_element(By.CSS_SELECTOR, f'#tabs button[data-tab="{name}"]').click()


def severe(driver: Any) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def open_room(driver: Any, api: str, room_id: str) -> None:
    Select(driver.find_element(By.ID, "rooms-api")).select_by_value(api)
    item = wait(lambda: driver.find_element(By.CSS_SELECTOR, f'#rooms-list li[data-room="{room_id}"]'), 5, f"room {room_id}")
    item.click()
    wait(lambda: driver.find_elements(By.CSS_SELECTOR, "#transcript li"), 5, "the transcript")


def screenshot(driver: Any, name: str) -> None:
    """A PNG of the page: into docs/ with ``CHATMOCK_SCREENSHOTS=1`` (refreshing the README's
    pictures), else into a scratch directory (so a test run leaves the tree as it was)."""
    folder = DOCS if os.environ.get("CHATMOCK_SCREENSHOTS") == "1" else Path(tempfile.gettempdir()) / "chatmock-screenshots"
    folder.mkdir(exist_ok=True)
    assert driver.save_screenshot(str(folder / name))
    assert (folder / name).read_bytes().startswith(b"\x89PNG")


def test_the_page_loads_without_console_errors(browser: Any, mock: tuple[ChatMockApp, str]) -> None:
    app, origin = mock
    open_console(browser, origin, app)
    assert browser.title == "chatmock console"
    assert severe(browser) == []
    tab(browser, "control")
    wait(lambda: browser.find_elements(By.CSS_SELECTOR, "#catalogue-rows tr"), 5, "the catalogue")
    screenshot(browser, "console-control.png")
    for name in ("rooms", "talk", "traffic"):
        tab(browser, name)
    assert severe(browser) == []
    page = browser.page_source
    for secrets in app.state.chatmock.credentials().values():
        for given in secrets.values():
            for value in given.values():
                if len(value) >= 8 and ("token" in value or "password" in value or "key" in value):
                    assert value not in page


def test_a_message_posted_over_http_appears_in_the_open_room_within_a_second(browser: Any, mock: tuple[ChatMockApp, str]) -> None:
    app, origin = mock
    open_console(browser, origin, app)
    open_room(browser, "lingr", "lounge")
    with httpx.Client(base_url=origin, timeout=5) as http:
        session = http.post("/lingr/api/session/create", data={"user": "bob", "password": "bob-password"}).json()["session"]
        started = time.monotonic()
        said = http.post("/lingr/api/room/say", data={"session": session, "room": "lounge", "text": "posted over HTTP"})
        assert said.json()["status"] == "ok"
    wait(lambda: "posted over HTTP" in browser.find_element(By.ID, "transcript").text, 1.0, "the message in the room")
    assert time.monotonic() - started < 1.0
    screenshot(browser, "console-rooms.png")
    assert severe(browser) == []


def observe_in_background(origin: str, path: str, params: dict[str, str], wanted: str) -> tuple[threading.Thread, list[httpx.Response]]:
    """Poll as a bot does (Lingr: the next observe from the counter answered) until ``wanted`` arrives."""
    answers: list[httpx.Response] = []

    def run() -> None:
        deadline = time.monotonic() + 8
        given = dict(params)
        with httpx.Client(base_url=origin, timeout=10) as http:
            while time.monotonic() < deadline:
                answer = http.get(path, params=given)
                answers.append(answer)
                if wanted in answer.text or answer.status_code != 200:
                    return
                if "counter" in given:
                    given["counter"] = str(answer.json()["counter"])

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, answers


def select(driver: Any, element: str, value: str) -> bool:
    """Pick ``value`` in a select (raises while it has no such option yet)."""
    Select(driver.find_element(By.ID, element)).select_by_value(value)
    return True


def talk(driver: Any, api: str, room: str, user: str, text: str) -> None:
    tab(driver, "talk")
    Select(driver.find_element(By.ID, "talk-api")).select_by_value(api)
    wait(lambda: select(driver, "talk-room", room), 5, f"{api} rooms in Talk")
    wait(lambda: select(driver, "talk-user", user), 5, f"{api} users in Talk")
    box = driver.find_element(By.ID, "talk-text")
    box.clear()
    box.send_keys(text)
    driver.find_element(By.ID, "talk-send").click()
    wait(lambda: '"status"' in driver.find_element(By.ID, "talk-result").text, 5, "the talk answer")


def test_a_message_sent_from_the_console_reaches_a_lingr_observer_and_a_bocco_subscriber(
    browser: Any, mock: tuple[ChatMockApp, str]
) -> None:
    app, origin = mock
    open_console(browser, origin, app)
    with httpx.Client(base_url=origin, timeout=5) as http:
        session = http.post("/lingr/api/session/create", data={"user": "bob", "password": "bob-password"}).json()["session"]
        counter = http.post("/lingr/api/room/subscribe", data={"session": session, "room": "lounge"}).json()["counter"]
        token = http.post(
            "/bocco/alpha/sessions", data={"apikey": "bocco-api-key", "email": "bob@example.com", "password": "bob-password"}
        ).json()["access_token"]
        newest = max(
            message["id"] for message in http.get(f"/bocco/alpha/rooms/{BOCCO_FAMILY}/messages", params={"access_token": token}).json()
        )
    # the console logs its Lingr users in once per world (presence events): let that happen first
    wait(lambda: len(browser.find_elements(By.CSS_SELECTOR, "#talk-user option")) >= 2, 5, "the console's users")
    observer, observed = observe_in_background(
        origin, "/lingr/api/event/observe", {"session": session, "counter": str(counter)}, "hello observers"
    )
    subscriber, subscribed = observe_in_background(
        origin, f"/bocco/alpha/rooms/{BOCCO_FAMILY}/subscribe", {"access_token": token, "newer_than": str(newest)}, "hello subscribers"
    )
    talk(browser, "lingr", "lounge", "alice", "hello observers")
    talk(browser, "bocco", BOCCO_FAMILY, "alice", "hello subscribers")
    observer.join(8)
    subscriber.join(8)
    assert "hello observers" in observed[-1].text
    assert observed[-1].json()["status"] == "ok"
    assert subscribed[-1].status_code == 200
    assert "hello subscribers" in subscribed[-1].text
    assert severe(browser) == []


def test_a_fault_rule_set_from_the_console_changes_the_next_matching_answer(browser: Any, mock: tuple[ChatMockApp, str]) -> None:
    app, origin = mock
    open_console(browser, origin, app)
    tab(browser, "control")
    Select(browser.find_element(By.ID, "fault-action")).select_by_visible_text("rate_limit")
    browser.find_element(By.ID, "fault-endpoint").send_keys("gitter.rooms.list")
    options = browser.find_element(By.ID, "fault-options")
    options.clear()
    options.send_keys('{"retry_after": 9}')
    browser.find_element(By.ID, "fault-add").click()
    wait(lambda: browser.find_elements(By.CSS_SELECTOR, "#fault-rows tr"), 5, "the rule in the list")
    headers = {"Authorization": "Bearer gitter-token-alice"}
    with httpx.Client(base_url=origin, timeout=5) as http:
        limited = http.get("/gitter/v1/rooms", headers=headers)
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "9"
        assert http.get("/gitter/v1/rooms", headers=headers).status_code == 200
    tab(browser, "traffic")
    wait(lambda: browser.find_elements(By.CSS_SELECTOR, "#traffic-rows tr.faulted"), 2, "the faulted exchange in Traffic")
    assert severe(browser) == []


def test_the_traffic_view_shows_a_strict_mode_violation(
    browser: Any, mock: tuple[ChatMockApp, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, origin = mock
    open_console(browser, origin, app)
    tab(browser, "traffic")
    gitter = app.state.chatmock.modules["gitter"]

    async def broken(call: Any) -> JsonReply:
        return JsonReply(200, [{"not": "a user"}])

    monkeypatch.setitem(gitter.handlers, "gitter.user.me", broken)
    with httpx.Client(base_url=origin, timeout=5) as http:
        answer = http.get("/gitter/v1/user/me", headers={"Authorization": "Bearer gitter-token-alice"})
        http.get("/gitter/v1/rooms", headers={"Authorization": "Bearer gitter-token-alice"})
    assert answer.status_code == 500
    row = wait(lambda: browser.find_element(By.CSS_SELECTOR, "#traffic-rows tr.violation"), 2, "the violation in Traffic")
    assert "violation" in row.text
    row.click()
    detail = wait(lambda: browser.find_element(By.CSS_SELECTOR, "#traffic-rows tr.detail pre.violations"), 5, "the violation detail")
    assert detail.text
    curl = browser.find_element(By.CSS_SELECTOR, "#traffic-rows tr.detail pre.curl").text
    assert curl.startswith("curl -X GET")
    assert "${SECRET}" in curl
    assert "gitter-token-alice" not in browser.page_source
    screenshot(browser, "console-traffic.png")
    assert severe(browser) == []


def test_with_an_admin_token_the_console_asks_once_and_keeps_it_for_the_session(browser: Any) -> None:
    app = create_app(admin_token="browser-admin-7f3e")
    server = BackgroundServer(app).start()
    try:
        browser.get(f"{server.url}/__chatmock/")
        form = wait(
            lambda: browser.find_element(By.ID, "login-token") if browser.find_element(By.ID, "login").is_displayed() else None,
            5,
            "the token form",
        )
        assert "browser-admin-7f3e" not in browser.page_source
        form.send_keys("browser-admin-7f3e")
        browser.find_element(By.CSS_SELECTOR, "#login-form button").click()
        wait(lambda: browser.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "1", 10, "the console after the token")
        assert browser.current_url == f"{server.url}/__chatmock/"  # the token left the address at once
        browser.get(f"{server.url}/__chatmock/")  # kept: no second question
        wait(lambda: browser.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "1", 10, "the console again")
        assert not browser.find_element(By.ID, "login").is_displayed()
        cookie = browser.get_cookie("chatmock_admin")
        assert cookie is not None
        assert cookie["httpOnly"] is True
        assert "browser-admin-7f3e" not in cookie["value"]
        assert severe(browser) == []  # the page asked whether it needs the token: no failed request
    finally:
        browser.get("about:blank")
        server.stop()
