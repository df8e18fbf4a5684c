"""Two real headless Chromium pages on the board: a nurse's click shows up on the other live."""

import json
import shutil
import tempfile
import time
import urllib.request

import pytest

from tests.queue_app.gunicorn_harness import gunicorn_server

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (shutil.which("chromium") and shutil.which("chromedriver")),
        reason="needs Debian's chromium and chromium-driver (installed by .ci/run)",
    ),
]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,900"]  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with gunicorn_server(tmp_path_factory.mktemp("browser"), patients=3, pages=True) as s:
        yield s


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    drivers, profiles = [], []

    def open_browser():
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium")
        profiles.append(tempfile.mkdtemp(prefix="chromium-"))
        for flag in [*FLAGS, f"--user-data-dir={profiles[-1]}"]:
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
        drivers.append(driver)
        return driver

    yield open_browser
    for driver in drivers:
        driver.quit()
    for profile in profiles:
        shutil.rmtree(profile, ignore_errors=True)


def api(server, path, body):
    request = urllib.request.Request(
        f"{server['url']}/api/v1/queue/{path}", data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Token {server['tokens']['nurse']}",
                 "Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def log_in(driver, server, username, then):
    from selenium.webdriver.common.by import By

    driver.get(f"{server['url']}/admin/login/?next={then}")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys("queue-load-password")
    driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    # The click only starts the navigation; wait until the board itself has loaded.
    assert wait_for(
        lambda: (
            driver.current_url.endswith(then)
            and driver.execute_script("return document.readyState") == "complete"
        ),
        timeout=30,
    ), f"{username} never reached {then}"


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def text_of(driver, selector) -> str:
    # Read through JS: the live refresh swaps the table, which would stale a held element.
    return driver.execute_script(
        "var e = document.querySelector(arguments[0]); return e ? e.textContent.trim() : '';",
        selector,
    )


def test_a_nurse_click_shows_on_a_second_board_without_reload(server, browser):
    from selenium.webdriver.common.by import By

    entry = api(server, "", {"patient": server["patients"][0]})
    token = entry["token_number"]
    nurse_page, watching_page = browser(), browser()
    log_in(nurse_page, server, "nurse_load", "/admin/queue_app/queueentry/board/")
    log_in(watching_page, server, "doctor_load", "/admin/queue_app/queueentry/board/")
    row = f"#entry-{token} .status"
    assert wait_for(lambda: text_of(watching_page, row) == "Waiting"), text_of(watching_page, row)
    watching_page.execute_script("window.notReloaded = true;")

    clicked = time.monotonic()
    nurse_page.find_element(
        By.CSS_SELECTOR, f"#entry-{token} button[data-action='nurse-complete']"
    ).click()
    assert wait_for(lambda: text_of(watching_page, row) == "Nurse completed"), (
        "the second page never showed the change"
    )
    elapsed = time.monotonic() - clicked
    print(f"change visible on the second page after {elapsed:.2f} s")
    assert elapsed < 3  # target 1 s: half-second poll plus one fetch; slack for a busy CI box
    assert watching_page.execute_script("return window.notReloaded === true;")

    # A second patient arrives through the API: both pages show the new row, still no reload.
    second = api(server, "", {"patient": server["patients"][1]})
    assert wait_for(
        lambda: text_of(watching_page, f"#entry-{second['token_number']} .status") == "Waiting"
    )
    assert watching_page.execute_script("return window.notReloaded === true;")
