"""The portal's screens over HTTP: the flows, the field messages, and what the browser is told
(cookies, caching, language).  Codes come from pyotp; the browser tests drive a simulated fob."""

import base64
import json

import pytest
from fastapi.testclient import TestClient
from portal.pages import CONFIRMATION, login, submit
from sqlalchemy import select

from fobauth import runtime
from fobauth.portal import i18n
from fobauth.ratelimit import Rate
from fobauth.schema import audit_events


def test_login_page_is_japanese_by_default_and_uncacheable(browser_client):
    page = browser_client.get("/login")
    assert page.status_code == 200
    assert "ログインID" in page.text and "ログインパスワード" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


def test_the_session_cookie_is_signed_secure_httponly_and_lax(browser_client, bank):
    bank.user("taro")
    answer = login(browser_client, "taro")
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("fob_session=")
    for flag in ("secure", "httponly", "samesite=lax", "path=/"):
        assert flag in cookie.lower()
    payload = json.loads(base64.b64decode(cookie.split("=", 1)[1].split(".")[0] + "=="))
    assert set(payload) <= {"user", "role", "customer", "stage", "since", "csrf"}  # no password, no code


def test_wrong_password_and_unknown_user_get_the_same_answer(browser_client, bank):
    bank.user("taro")
    wrong = login(browser_client, "taro", "not it")
    unknown = login(browser_client, "nobody", "not it")
    assert wrong.status_code == unknown.status_code == 401
    message = "ログインIDまたはログインパスワードが正しくありません。"
    assert message in wrong.text and message in unknown.text
    assert "not it" not in wrong.text  # a password is never echoed
    assert 'value="taro"' in wrong.text  # the user id is kept


def test_passwords_are_taken_exactly_as_typed(browser_client, bank):
    bank.service.create_user("taro", "acme", "user", " spaced out ", CONFIRMATION)
    assert login(browser_client, "taro", "spaced out").status_code == 401
    assert login(browser_client, " taro ", " spaced out ").headers["location"] == "/register"  # the id is trimmed


def test_password_guessing_is_slowed_per_user(browser_client, bank):
    bank.user("taro")
    answers = [login(browser_client, "taro", "guess %d" % attempt).status_code for attempt in range(10)]
    assert answers == [401] * 10
    answer = login(browser_client, "taro")  # even the right password waits now
    assert answer.status_code == 429 and "試行回数が多すぎます" in answer.text
    assert login(browser_client, "hanako", "guess").status_code == 401  # other users are not held up


def test_registration_with_a_full_width_serial_then_login_with_the_code(browser_client, bank, clock):
    serial = bank.token("20260001")
    bank.user("taro")
    answer = login(browser_client, "taro")
    assert answer.status_code == 303 and answer.headers["location"] == "/register"
    page = browser_client.get("/register")
    for label in ("ワンタイムパスワード利用開始登録", "シリアル番号", "認証確認", "トークン利用開始登録の省略"):
        assert label in page.text
    full_width = serial.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    answer = submit(
        browser_client, "/register", {"action": "register", "serial": full_width, "code": bank.code(serial)}
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    assert "シリアル番号 20260001" in browser_client.get("/").text
    assert bank.service.status("taro").serial == serial

    submit(browser_client, "/logout", {}, page_path="/")
    clock.advance(60)
    answer = login(browser_client, "taro")
    assert answer.headers["location"] == "/login/code"
    assert browser_client.get("/").headers["location"] == "/login"  # not signed in before the code
    answer = submit(browser_client, "/login/code", {"code": bank.code(serial)})
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    assert "taro" in browser_client.get("/").text


@pytest.mark.parametrize(
    ("serial", "code", "field", "message"),
    [
        ("12ab5678", "123456", "serial", "半角数字8桁以上12桁以内で入力してください"),
        ("1234567", "123456", "serial", "半角数字8桁以上12桁以内で入力してください"),
        ("٠١٢٣٤٥٦٧", "123456", "serial", "半角数字8桁以上12桁以内で入力してください"),
        ("99999999", "123456", "serial", "このシリアル番号のトークンは登録できません"),
        ("20260001", "12345", "code", "数字6桁で入力してください"),
        ("20260001", "", "code", "入力してください"),
        ("", "123456", "serial", "入力してください"),
        ("20260001", "1" * 5000, "code", "入力が長すぎます"),
    ],
)
def test_registration_messages_are_next_to_their_field(browser_client, bank, serial, code, field, message):
    bank.token("20260001")
    bank.user("taro")
    login(browser_client, "taro")
    answer = submit(browser_client, "/register", {"action": "register", "serial": serial, "code": code})
    assert answer.status_code == 400
    error = answer.text.split('id="%s-error"' % field)[1].split("</p>")[0]
    assert message in error
    assert bank.service.status("taro").serial is None


def test_a_wrong_registration_code_is_refused_and_counted(browser_client, bank):
    serial = bank.token("20260001")
    bank.user("taro")
    login(browser_client, "taro")
    right = bank.code(serial)
    wrong = "%06d" % ((int(right) + 1) % 1_000_000)
    answer = submit(browser_client, "/register", {"action": "register", "serial": serial, "code": wrong})
    assert "ワンタイムパスワードが正しくありません" in answer.text.split('id="code-error"')[1]
    assert 'value="20260001"' in answer.text and wrong not in answer.text  # the serial kept, the code not
    assert bank.service.status("taro").failures == 1


def test_skip_goes_to_the_top_page_and_registration_is_offered_again(browser_client, bank):
    bank.user("taro")
    login(browser_client, "taro")
    answer = submit(browser_client, "/register", {"action": "skip"})
    assert answer.headers["location"] == "/"
    assert "ハードウェアトークンは登録されていません" in browser_client.get("/").text
    submit(browser_client, "/logout", {}, page_path="/")
    assert login(browser_client, "taro").headers["location"] == "/register"


def test_a_suspended_user_is_told_to_contact_an_administrator(browser_client, bank):
    serial = bank.token("20260001")
    bank.user("taro", serial=serial)
    login(browser_client, "taro")
    for attempt in range(5):
        answer = submit(browser_client, "/login/code", {"code": "000000" if attempt % 2 else "999999"})
    assert answer.status_code == 403
    assert "マスターユーザまたは管理者ユーザ" in answer.text
    answer = login(browser_client, "taro")
    assert answer.status_code == 403 and "利用停止" in answer.text
    assert browser_client.get("/login/code").headers["location"].startswith("/login")


def test_the_code_stage_expires(browser_client, bank, clock):
    serial = bank.token("20260001")
    bank.user("taro", serial=serial)
    login(browser_client, "taro")
    clock.advance(5 * 60 + 1)
    assert browser_client.get("/login/code").headers["location"] == "/login?expired=1"
    assert "もう一度ログインしてください" in browser_client.get("/login?expired=1").text


def test_unlock_and_revoke_by_an_administrator(browser_client, bank, clock):
    serial = bank.token("20260001")
    bank.user("boss", role="admin", serial=serial)  # shares the token with jiro
    bank.user("jiro", serial=serial)
    bank.suspend("jiro", serial)
    assert bank.service.status("jiro").suspended
    login(browser_client, "boss")
    submit(browser_client, "/login/code", {"code": bank.code(serial)})
    assert "管理" in browser_client.get("/").text
    assert "利用者管理" in browser_client.get("/manage").text
    menu = browser_client.get("/manage/users").text
    assert "ワンタイムパスワードの利用停止解除" in menu and "トークンの失効" in menu
    page = browser_client.get("/manage/unlock")
    assert 'value="jiro"' in page.text and "確認用パスワード" in page.text and "停止解除" in page.text

    answer = submit(browser_client, "/manage/unlock", {"target": "jiro", "confirmation_password": "wrong"})
    assert "確認用パスワードが正しくありません" in answer.text.split('id="confirmation_password-error"')[1]
    answer = submit(browser_client, "/manage/unlock", {"confirmation_password": CONFIRMATION})
    assert "対象の利用者を選択してください" in answer.text.split('id="target-error"')[1]
    assert bank.service.status("jiro").suspended
    answer = submit(browser_client, "/manage/unlock", {"target": "jiro", "confirmation_password": CONFIRMATION})
    assert answer.status_code == 200 and "jiro のワンタイムパスワードの利用停止を解除しました" in answer.text
    assert not bank.service.status("jiro").suspended

    clock.advance(60)
    page = browser_client.get("/manage/revoke")
    assert "失効" in page.text and 'name="code"' in page.text  # boss uses a token: their code is asked
    fields = {"target": "jiro", "confirmation_password": CONFIRMATION}
    answer = submit(browser_client, "/manage/revoke", fields)
    assert "入力してください" in answer.text.split('id="code-error"')[1]
    answer = submit(browser_client, "/manage/revoke", {**fields, "code": bank.code(serial)})
    assert answer.status_code == 200
    assert "約30分間再設定ができなくなります" in answer.text
    assert bank.service.status("jiro").serial is None and bank.service.status("boss").serial == serial


def test_revoked_user_waits_out_the_cool_down_then_registers_again(browser_client, bank, clock):
    serial = bank.token("20260001")
    bank.user("boss", role="master")  # no token: confirmation password alone
    bank.user("jiro", serial=serial)
    login(browser_client, "boss")
    submit(browser_client, "/register", {"action": "skip"})
    assert 'name="code"' not in browser_client.get("/manage/revoke").text
    submit(browser_client, "/manage/revoke", {"target": "jiro", "confirmation_password": CONFIRMATION})
    submit(browser_client, "/logout", {}, page_path="/")

    clock.advance(29 * 60)
    assert login(browser_client, "jiro").headers["location"] == "/"
    assert "約1分後にログインし" in browser_client.get("/").text
    submit(browser_client, "/logout", {}, page_path="/")
    clock.advance(2 * 60)
    assert login(browser_client, "jiro").headers["location"] == "/register"
    answer = submit(browser_client, "/register", {"action": "register", "serial": serial, "code": bank.code(serial)})
    assert answer.headers["location"] == "/"


@pytest.mark.parametrize("role", ["user", None])
def test_management_is_for_masters_and_administrators_only(browser_client, bank, role):
    if role:
        bank.user("taro", role=role)
        login(browser_client, "taro")
        submit(browser_client, "/register", {"action": "skip"})
    for path in ("/manage", "/manage/users", "/manage/unlock", "/manage/revoke"):
        answer = browser_client.get(path)
        assert answer.status_code == 403 and "権限がありません" in answer.text


def test_an_administrator_sees_and_acts_on_their_own_customer_only(browser_client, bank):
    serial = bank.token("20260001")
    bank.user("other", customer="globex", serial=serial)
    bank.suspend("other", serial)
    bank.user("boss", role="admin")
    login(browser_client, "boss")
    submit(browser_client, "/register", {"action": "skip"})
    assert "other" not in browser_client.get("/manage/unlock").text
    answer = submit(browser_client, "/manage/unlock", {"target": "other", "confirmation_password": CONFIRMATION})
    assert answer.status_code == 400 and bank.service.status("other").suspended
    answer = submit(browser_client, "/manage/revoke", {"target": "other", "confirmation_password": CONFIRMATION})
    assert answer.status_code == 400 and bank.service.status("other").serial == serial


def test_language_switch_is_kept_in_a_cookie(browser_client):
    page = browser_client.get("/login?lang=en")
    assert "User ID" in page.text and 'lang="en"' in page.text
    assert "fob_lang=en" in page.headers["set-cookie"]
    assert "Login password" in browser_client.get("/login").text
    assert "ログインID" in browser_client.get("/login?lang=ja").text
    assert "ログインID" in browser_client.get("/login?lang=xx").text  # unknown languages are ignored


def test_the_api_keeps_its_routes_and_json(browser_client):
    answer = browser_client.get("/api/v1/users/taro")
    assert answer.status_code == 401 and answer.json()["error"] == "unauthorized"


def test_fob_serve_builds_the_api_with_the_portal_at_the_root(service):
    app = runtime.build_app(service, "portal-test-api-key-0123456789", Rate(10, 60), Rate(100, 1))
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        assert client.get("/").headers["location"] == "/login"
        assert "ログインID" in client.get("/login").text
        assert client.get("/static/portal.css").status_code == 200
        assert client.get("/api/v1/openapi.json").json()["info"]["title"] == "fobauth"


def test_both_languages_have_every_text_and_the_banks_japanese_labels():
    assert set(i18n.TEXTS["ja"]) == set(i18n.TEXTS["en"])
    japanese = set(i18n.TEXTS["ja"].values())
    for label in (
        "ワンタイムパスワード利用開始登録（ハードウェアトークン）",
        "シリアル番号",
        "認証確認",
        "トークン利用開始登録の省略",
        "利用者管理",
        "ワンタイムパスワードの利用停止解除",
        "確認用パスワード",
        "停止解除",
        "トークンの失効",
        "失効",
    ):
        assert label in japanese


def test_english_registration_screen(browser_client, bank):
    bank.user("taro")
    browser_client.get("/login?lang=en")
    login(browser_client, "taro")
    page = browser_client.get("/register")
    for label in (
        "Start using a one-time password (hardware token)",
        "Serial number",
        "Confirm",
        "Skip token registration",
    ):
        assert label in page.text
    answer = submit(browser_client, "/register", {"action": "register", "serial": "1", "code": "1"})
    assert "The serial number is 8 to 12 digits." in answer.text.split('id="serial-error"')[1]


def test_login_attempts_are_audited_without_unknown_ids(browser_client, bank):
    bank.user("taro")
    login(browser_client, "taro", "wrong")
    login(browser_client, "taro")
    login(browser_client, "my password typed as the id", "x")
    with bank.service.engine.connect() as conn:
        rows = conn.execute(
            select(audit_events.c.event, audit_events.c.result, audit_events.c.subject)
            .where(audit_events.c.event == "portal_login")
            .order_by(audit_events.c.id)
        ).all()
    assert [tuple(row) for row in rows] == [
        ("portal_login", "bad_password", "taro"),
        ("portal_login", "ok", "taro"),
        ("portal_login", "bad_password", None),
    ]
