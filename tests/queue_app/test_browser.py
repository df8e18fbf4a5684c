"""Real headless Chromium pages on the board: a nurse's click shows up on the other live; a
clinic day walked through from enqueue to a printed token slip."""

import json
import shutil
import tempfile
import time
import urllib.request

import pytest

from tests.backend_leg import LEG
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

    # A second patient arrives through the API: both pages show the new row, with no reload. (This
    # first refresh also warms the worker it lands on: a fresh worker's first page costs 0.2–3 s,
    # which is not what the timing below is about.)
    second = api(server, "", {"patient": server["patients"][1]})
    for page in (watching_page, nurse_page):  # the nurse's table is redrawn before her click
        assert wait_for(
            lambda page=page: text_of(page, f"#entry-{second['token_number']} .status") == "Waiting"
        )
    assert watching_page.execute_script("return window.notReloaded === true;")

    clicked = time.monotonic()
    nurse_page.find_element(
        By.CSS_SELECTOR, f"#entry-{token} button[data-action='nurse-complete']"
    ).click()
    assert wait_for(lambda: text_of(watching_page, row) == "Nurse completed"), (
        "the second page never showed the change"
    )
    elapsed = time.monotonic() - clicked
    print(f"change visible on the second page after {elapsed:.2f} s")
    # Target 1 s: the change's write, the watcher's wake-up and one fetch of the table; slack for
    # a busy CI box. The MongoDB leg runs on a pure-Python test server: on one machine the same
    # click took 0.32 s on SQLite and 1.43 s there, and a CI machine took 3.77 s there.
    assert elapsed < (3 if LEG == "sqlite" else 8)
    assert watching_page.execute_script("return window.notReloaded === true;")


def api_get(server, path, role="doctor"):
    request = urllib.request.Request(
        f"{server['url']}/api/v1/{path}",
        headers={"Authorization": f"Token {server['tokens'][role]}"},
    )
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def click(driver, selector):
    from selenium.webdriver.common.by import By

    # A page's script may still be drawing it; if the element never comes, say which page it was.
    if not wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, selector), timeout=10):
        page = driver.find_element(By.TAG_NAME, "body").text[:1500]
        raise AssertionError(f"no {selector} on {driver.current_url}:\n{page}")
    driver.find_element(By.CSS_SELECTOR, selector).click()


def fill(driver, values: dict):
    from selenium.webdriver.common.by import By

    for name, value in values.items():
        box = driver.find_element(By.NAME, name)
        box.clear()
        box.send_keys(value)


def loaded(driver, path_end: str) -> bool:
    return wait_for(
        lambda: (
            driver.current_url.split("?")[0].endswith(path_end)
            and driver.execute_script("return document.readyState") == "complete"
        ),
        timeout=30,
    )


BOARD = "/admin/queue_app/queueentry/board/"


def register(driver, server, phone: str) -> str:
    """Registers Meena Iyer through the admin's add form; returns her patient ID, and leaves
    the same form filled in again for a second registration."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    def fill_form(phone):
        driver.get(f"{server['url']}/admin/patients/patient/add/")
        assert wait_for(lambda: driver.find_elements(By.NAME, "name"), timeout=30)
        fill(driver, {"name": "Meena Iyer", "phone": phone})
        driver.execute_script("document.getElementById('id_date_of_birth').value = '1980-05-01';")
        Select(driver.find_element(By.NAME, "gender")).select_by_value("F")
        click(driver, "input[name=_save]")

    fill_form(phone)
    assert wait_for(lambda: "was added successfully" in driver.page_source, timeout=30)
    (found,) = api_get(server, "patients/?search=Meena+Iyer", "nurse")["results"]
    fill_form("0" + phone.replace(" ", "-"))
    assert wait_for(lambda: "Please correct" in driver.page_source, timeout=30)
    return found["id"]


def test_a_clinic_day_from_registration_to_merge_and_a_printed_slip(server, browser, tmp_path):
    """Register (a duplicate warned, then registered anyway), enqueue, vitals, nurse → doctor,
    SOAP note and a prescription without JSON on the chart, an amendment, merge and unmerge of
    the duplicate, the token slip printed to PDF; the board fits 800 px and a 412 px phone."""
    import base64

    from django.contrib.admin.utils import quote
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    nurse = browser()
    log_in(nurse, server, "nurse_load", BOARD)
    first = register(nurse, server, "98765 43210")
    # The same woman again, her number written another way: the desk is warned, with a link.
    assert "look like this one" in nurse.page_source and "Register as a new patient" in (
        nurse.page_source
    )
    assert f"/admin/patients/patient/{quote(first)}/change/" in nurse.page_source
    click(nurse, "input[name=confirm_new]")  # the clerk is not sure: registers her anyway
    click(nurse, "input[name=_save]")
    assert wait_for(lambda: "was added successfully" in nurse.page_source, timeout=30)
    (patient,) = {p["id"] for p in api_get(server, "patients/?search=Meena+Iyer", "nurse")[
        "results"]} - {first}  # fmt: skip
    nurse.get(f"{server['url']}/admin/queue_app/queueentry/add/")
    nurse.execute_script(  # the autocomplete widget's choice, as select2 leaves it
        "var s = document.getElementById('id_patient');"
        " s.add(new Option('p', arguments[0], true, true));",
        patient,
    )
    fill(nurse, {"reason": "Fever, 3 days"})
    click(nurse, "input[name=_save]")
    assert loaded(nurse, BOARD), nurse.current_url  # enqueueing returns to the board
    entry = api_get(server, f"queue/?patient={patient}", "nurse")["results"][0]
    token, row = entry["token_number"], f"#entry-{entry['token_number']}"
    assert "Fever, 3 days" in text_of(nurse, row)

    click(nurse, f"{row} a[data-action=vitals]")
    vitals = {"systolic_bp": "130", "diastolic_bp": "85", "pulse": "92", "temperature_c": "38.3",
              "spo2": "97", "weight_kg": "64", "height_cm": "160"}  # fmt: skip
    fill(nurse, vitals)
    click(nurse, "form.vitals-form button[type=submit]")
    assert loaded(nurse, BOARD)
    assert "BP 130/85" in text_of(nurse, f"{row} .vitals")
    for step, status in (("start", "Waiting (with nurse)"), ("nurse-complete", "Nurse completed"),
                         ("ready", "Ready for doctor")):  # fmt: skip
        click(nurse, f"{row} button[data-action='{step}']")
        assert wait_for(lambda s=status: text_of(nurse, f"{row} .status") == s), step

    doctor = browser()
    log_in(doctor, server, "doctor_load", BOARD)
    fill(doctor, {"room": "Room 3"})
    doctor.execute_script(  # the row's call uses the room the doctor typed last; set it here
        "document.querySelectorAll(arguments[0] + ' input[name=room]')"
        ".forEach(function (i) { i.value = 'Room 3'; });",
        row,
    )
    click(doctor, f"{row} button[data-action=call]")
    assert wait_for(lambda: text_of(doctor, f"{row} .status") == "In consultation")
    assert "BP 130/85" in text_of(doctor, f"{row} .vitals")

    click(doctor, f"{row} td.token a")  # one click to the chart
    assert loaded(doctor, f"/admin/patients/patient/{quote(patient)}/change/")
    assert "130/85" in doctor.find_element(By.ID, "vitals-group").text
    doctor.find_element(By.CSS_SELECTOR, "#notes-group .add-row a").click()
    soap = {"notes-0-subjective": "Fever and cough for 3 days",
            "notes-0-assessment": "Viral fever", "notes-0-plan": "Paracetamol, fluids"}  # fmt: skip
    fill(doctor, soap)
    doctor.find_element(By.CSS_SELECTOR, "#history-group .add-row a").click()
    Select(doctor.find_element(By.NAME, "history-0-type")).select_by_value("prescription")
    fill(doctor, {"history-0-medications-0-drug": "Tab Metformin 500mg BD x 30 days"})
    click(doctor, "input[name=_save]")
    assert wait_for(lambda: "was changed successfully" in doctor.page_source, timeout=30)
    history = api_get(server, f"patients/{patient}/history/")["results"]
    assert history[0]["content"]["medications"] == [
        {"drug": "Metformin", "dose": "500mg", "route": "oral", "frequency": "BD",
         "duration": "30 days"}
    ]  # fmt: skip
    note = api_get(server, f"patients/{patient}/notes/")["results"][0]
    assert note["created_by"] == "doctor_load"

    doctor.get(f"{server['url']}/admin/patients/note/{quote(note['id'])}/change/")
    fill(doctor, {"assessment": "Viral fever, likely influenza",
                  "amendment_reason": "Flu test positive"})  # fmt: skip
    click(doctor, "input[name=_save]")
    assert wait_for(lambda: "was changed successfully" in doctor.page_source, timeout=30)
    amendments = api_get(server, f"notes/{note['id']}/amendments/")
    assert [(a["reason"], a["previous_content"]["assessment"]) for a in amendments] == [
        ("Flu test positive", "Viral fever")
    ]

    # The doctor merges the duplicate into the record registered first: the visit's note and
    # prescription go with it; the duplicate's ID leads there; undoing restores both records.
    doctor.get(f"{server['url']}/admin/patients/patient/?q=Meena+Iyer")
    for pk in (first, patient):
        click(doctor, f"input[name=_selected_action][value='{pk}']")
    Select(doctor.find_element(By.NAME, "action")).select_by_value("merge_selected")
    click(doctor, "button[name=index]")
    assert wait_for(lambda: "Merged 1 record(s) into" in doctor.page_source, timeout=30)
    assert [n["id"] for n in api_get(server, f"patients/{first}/notes/")["results"]] == [note["id"]]
    doctor.get(f"{server['url']}/admin/patients/patient/{quote(patient)}/change/")
    assert loaded(doctor, f"/admin/patients/patient/{quote(first)}/change/")
    doctor.get(f"{server['url']}/admin/patients/patient/?q=Meena+Iyer")
    click(doctor, f"input[name=_selected_action][value='{patient}']")
    Select(doctor.find_element(By.NAME, "action")).select_by_value("unmerge_selected")
    click(doctor, "button[name=index]")
    assert wait_for(lambda: "Restored 1 merged record(s)" in doctor.page_source, timeout=30)
    assert api_get(server, f"patients/{first}/notes/")["results"] == []
    assert [n["id"] for n in api_get(server, f"patients/{patient}/notes/")["results"]] == [
        note["id"]
    ]

    nurse.get(f"{server['url']}{BOARD}{entry['id']}/slip/?paper=80")
    # The slip opens the print dialog itself; the page is read once it has drawn.
    assert wait_for(lambda: f">{token}<" in nurse.page_source), nurse.current_url
    assert "<svg" in nurse.page_source
    pdf = base64.b64decode(nurse.print_page())
    (tmp_path / "token-slip.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF")

    for width in (800, 412):
        # Headless windows are at least 500 px wide; a phone's viewport is emulated instead.
        nurse.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 500},
        )
        nurse.get(f"{server['url']}{BOARD}")
        assert loaded(nurse, BOARD)
        nurse.save_screenshot(str(tmp_path / f"board-{width}.png"))
        widths = nurse.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth,"
            " Array.from(document.querySelectorAll('#queue-board button, #queue-board .button'))"
            "  .filter(function (b) { var r = b.getBoundingClientRect();"
            "   return r.width > 0 && r.right > window.innerWidth + 1; }).length];"
        )
        assert widths[1] == width and widths[0] <= width and widths[2] == 0, (width, widths)
