"""The portal in a real browser: Playwright drives Debian's Chromium (headless) through the screens of
the app `fob serve` builds, served by uvicorn on a loopback port, with a simulated fob (`fob sim`,
provisioned by `fob provision`, exported by `fob export`, imported by the service) showing the codes.

The fob runs 60 times faster than the host, so a new code appears every second; for the 30 minutes
of cool-down it is restarted with its clock moved on.  The service's clock is set to the fob's time
of each code the test reads from the fob, as a bank's clock agrees with its tokens'.  Screenshots
of each screen are kept in artifacts/portal/.
"""

import os
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright
from portal.harness import FAST_HASHER, Clock, build_app
from portal.pages import CONFIRMATION, LOGIN_PASSWORD
from threadserver import ThreadServer

from fobauth.database import make_engine, upgrade
from fobauth.seedbox import SeedBox
from fobauth.service import AuthService
from peers import missing
from simproc import SimProcess, fob

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "portal"
SPEED = 60  # fob seconds per host second: a new code every host second
PERIOD = 60


class Fob:
    """The simulated fob, its display kept on (a code event per time step), read as a user reads it."""

    def __init__(self, directory, clock):
        self.directory = directory
        self.clock = clock
        self.sim = None
        self.serial = None
        self.last_step = -1

    def start(self, *options):
        self.sim = SimProcess(self.directory, "--speed", SPEED, "--display-timeout", 86400, *options)
        return self.sim

    def jump(self, fob_time):
        """Restart the fob with its clock set to ``fob_time`` (as if the user waited that long)."""
        self.sim.stop()
        self.start("--offset", int(fob_time - time.time()))
        self.sim.press()

    def _shown(self, wanted):
        """The code on the display now, or the next one shown, that satisfies ``wanted(event)``."""
        shown = [event for event in self.sim.pending_events() if event["event"] == "code"]
        event = shown[-1] if shown else None
        while event is None or not wanted(event):
            event = self.sim.next_event("code", serial=self.serial)
        return event

    def sync(self):
        """Set the service's clock to the fob's (before a login: the stages are timed)."""
        self.clock.now = max(self.clock.now, self._shown(lambda event: True)["time"])

    def code(self, not_before=0):
        """A code from a time step no code was read from before (at fob time ``not_before`` or later);
        the service's clock is set to the fob's time of that code."""
        event = self._shown(lambda event: event["time"] // PERIOD > self.last_step and event["time"] >= not_before)
        self.last_step = event["time"] // PERIOD
        self.clock.now = event["time"]
        return event["code"]


@pytest.fixture(scope="module")
def chromium():
    if not os.path.exists(CHROMIUM):
        missing("the browser tests need Debian's chromium at %s" % CHROMIUM)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    """The service with the simulated fob's seed imported, served with the portal; yields (service, fob, url)."""
    directory = tmp_path_factory.mktemp("bank")
    inventory = directory / "inventory.sqlite3"
    clock = Clock(time.time())
    engine = make_engine("sqlite:///%s" % (directory / "fobauth.db"))
    upgrade(engine)
    service = AuthService(engine, SeedBox(os.urandom(32)), clock=clock, hasher=FAST_HASHER)
    token = Fob(directory / "fob", clock)
    sim = token.start("--blank")
    try:
        fob("provision", "--port", sim.port, "--inventory", inventory)
        token.serial = sim.next_event("state", state="SEALED")["serial"]
        export = directory / "seeds.pskcxml"
        fob("export", "--format", "pskc", "--plaintext", "-o", export, "--inventory", inventory)
        assert service.import_pskc(export.read_bytes()) == [token.serial]
        sim.press()  # the display stays on
        # The administrator shares the fob (rule 2) and confirms revocations with its codes.
        service.create_user("boss", "acme", "admin", LOGIN_PASSWORD, CONFIRMATION)
        service.register("boss", token.serial, token.code())
        server = ThreadServer(build_app(service, clock))
        yield service, token, server.url
        server.stop()
    finally:
        token.sim.stop()
    engine.dispose()


@pytest.fixture
def page(chromium, bank):
    context = chromium.new_context(base_url=bank[2], locale="ja-JP")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def shot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / ("%s.png" % name), full_page=True)


def log_in(page, token, user_id, password=LOGIN_PASSWORD):
    token.sync()
    page.goto("/login")
    page.fill("#user_id", user_id)
    page.fill("#password", password)
    page.click("#login")


def enter_code(page, code):
    page.fill("#code", code)
    page.click("#confirm")


def wrong(code):
    return "%06d" % ((int(code) + 500_000) % 1_000_000)


def test_registration_with_the_fob_then_login_with_its_code(page, bank):
    service, token, _ = bank
    service.create_user("taro", "acme", "user", LOGIN_PASSWORD, CONFIRMATION)
    page.goto("/login")
    shot(page, "01-login")
    log_in(page, token, "taro")
    expect(page.locator("h1")).to_have_text("ワンタイムパスワード利用開始登録（ハードウェアトークン）")
    for label in ("シリアル番号", "半角数字8桁以上12桁以内", "認証確認", "トークン利用開始登録の省略"):
        expect(page.locator("main")).to_contain_text(label)
    shot(page, "02-register")

    page.fill("#serial", "12ab")
    page.fill("#code", token.code())
    page.click("#confirm")
    expect(page.locator("#serial-error")).to_contain_text("半角数字8桁以上12桁以内で入力してください")
    expect(page.locator("#code")).to_have_value("")  # a code is never put back into a page
    shot(page, "03-register-bad-serial")

    full_width = token.serial.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    page.fill("#serial", full_width)
    enter_code(page, token.code())
    expect(page.locator("#registered")).to_contain_text(token.serial)
    shot(page, "04-top-registered")
    assert service.status("taro").serial == token.serial

    page.click("#logout")
    log_in(page, token, "taro")
    expect(page.locator("h1")).to_have_text("ワンタイムパスワード認証")
    shot(page, "05-code")
    enter_code(page, token.code())
    expect(page.locator("#token")).to_contain_text(token.serial)


def test_skip_registration_then_it_is_offered_again(page, bank):
    service, token, _ = bank
    service.create_user("hanako", "acme", "user", LOGIN_PASSWORD, CONFIRMATION)
    log_in(page, token, "hanako")
    page.click("#skip")
    expect(page.locator("#no-token")).to_contain_text("次回ログイン時に利用開始登録が可能です")
    shot(page, "06-top-skipped")
    page.click("#logout")
    log_in(page, token, "hanako")
    expect(page.locator("h1")).to_have_text("ワンタイムパスワード利用開始登録（ハードウェアトークン）")


def test_lockout_after_wrong_codes_and_unlock_by_an_administrator(page, bank):
    service, token, _ = bank
    service.create_user("jiro", "acme", "user", LOGIN_PASSWORD, CONFIRMATION)
    service.register("jiro", token.serial, token.code())
    log_in(page, token, "jiro")
    bad = wrong(token.code())
    for _ in range(4):
        enter_code(page, bad)
        expect(page.locator("#code-error")).to_have_text("ワンタイムパスワードが正しくありません。")
    shot(page, "07-code-wrong")
    enter_code(page, bad)  # the fifth
    expect(page.locator("#message")).to_contain_text("マスターユーザまたは管理者ユーザに利用停止の解除をご依頼ください")
    shot(page, "08-suspended")
    log_in(page, token, "jiro")  # a right code would not help now; the password alone tells them
    expect(page.locator("#message")).to_contain_text("利用が停止されています")

    log_in(page, token, "boss")
    enter_code(page, token.code())
    page.click("#manage")
    expect(page.locator("h1")).to_have_text("業務選択")
    shot(page, "09-manage")
    page.click("#users-admin")
    expect(page.locator("h1")).to_have_text("作業内容選択")
    shot(page, "10-manage-users")
    page.click("#unlock-menu")
    expect(page.locator("h1")).to_have_text("ワンタイムパスワード利用停止解除一覧")
    page.check("input[name=target][value=jiro]")
    page.fill("#confirmation_password", "not the confirmation password")
    page.click("#unlock")
    expect(page.locator("#confirmation_password-error")).to_have_text("確認用パスワードが正しくありません。")
    shot(page, "11-unlock-wrong-password")
    assert service.status("jiro").suspended
    page.check("input[name=target][value=jiro]")
    page.fill("#confirmation_password", CONFIRMATION)
    page.click("#unlock")
    expect(page.locator("h1")).to_have_text("ワンタイムパスワードの利用停止解除結果")
    shot(page, "12-unlock-done")
    page.click("#logout")

    log_in(page, token, "jiro")
    enter_code(page, token.code())
    expect(page.locator("#token")).to_contain_text(token.serial)


def test_revocation_and_the_cool_down_before_registering_again(page, bank):
    service, token, _ = bank
    service.create_user("saburo", "acme", "user", LOGIN_PASSWORD, CONFIRMATION)
    service.register("saburo", token.serial, token.code())
    log_in(page, token, "boss")
    enter_code(page, token.code())
    page.goto("/manage/revoke")
    expect(page.locator("h1")).to_have_text("トークン失効")
    page.check("input[name=target][value=saburo]")
    page.fill("#confirmation_password", CONFIRMATION)
    page.fill("#code", token.code())  # boss uses a token: their own code confirms
    shot(page, "13-revoke")
    page.click("#revoke")
    expect(page.locator("h1")).to_have_text("トークン失効結果")
    expect(page.locator("main")).to_contain_text("約30分間再設定ができなくなります")
    shot(page, "14-revoke-done")
    revoked_at = token.clock.now
    page.click("#logout")

    log_in(page, token, "saburo")  # no token, waiting: the top page says how long
    expect(page.locator("#cooldown")).to_contain_text(re.compile("約(29|30)分後にログインし"))
    shot(page, "15-top-cooldown")
    page.click("#logout")
    token.jump(revoked_at + 29 * 60)
    log_in(page, token, "saburo")
    expect(page.locator("#cooldown")).to_be_visible()
    page.click("#logout")

    token.jump(revoked_at + 31 * 60)
    log_in(page, token, "saburo")
    expect(page.locator("h1")).to_have_text("ワンタイムパスワード利用開始登録（ハードウェアトークン）")
    page.fill("#serial", token.serial)
    enter_code(page, token.code())
    expect(page.locator("#registered")).to_contain_text(token.serial)


def test_language_switch(page, bank):
    _, token, _ = bank
    page.goto("/login")
    expect(page.locator("label[for=user_id]")).to_have_text("ログインID")
    page.click("text=English")
    expect(page.locator("label[for=user_id]")).to_have_text("User ID")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    shot(page, "16-login-en")
    page.goto("/login")  # the choice is kept
    expect(page.locator("#login")).to_have_text("Log in")
    log_in(page, token, "taro", "wrong password")
    expect(page.locator("#failure")).to_have_text("The user ID or login password is incorrect.")
    page.click("text=日本語")
    expect(page.locator("#login")).to_have_text("ログイン")
