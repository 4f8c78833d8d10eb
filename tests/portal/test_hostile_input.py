"""Forged, malformed and hostile requests to the portal: each gets a clear refusal, never a 500,
and changes nothing."""

import pytest
from fastapi.testclient import TestClient
from portal.harness import API_KEY, build_app
from portal.pages import CONFIRMATION, csrf_of, login, submit
from sqlalchemy import func, select

from fobauth import settings
from fobauth.portal import create_portal
from fobauth.schema import audit_events

FORM = {"content-type": "application/x-www-form-urlencoded"}


def audit_count(service):
    with service.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(audit_events)).scalar_one()


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_a_form_without_this_sessions_csrf_token_is_refused(browser_client, bank, token):
    bank.user("taro")
    browser_client.get("/login")
    before = audit_count(bank.service)
    fields = {"user_id": "taro", "password": "login password"}
    if token is not None:
        fields["csrf"] = token
    answer = browser_client.post("/login", data=fields)
    assert answer.status_code == 403 and "有効期限が切れました" in answer.text
    assert audit_count(bank.service) == before  # not even a login attempt was made


def test_a_csrf_token_of_another_session_is_refused(browser_client, other_browser_client, bank):
    bank.user("boss", role="admin")
    stolen = csrf_of(other_browser_client.get("/login"))
    login(browser_client, "boss")
    submit(browser_client, "/register", {"action": "skip"})
    answer = browser_client.post("/manage/unlock", data={"csrf": stolen, "target": "x", "confirmation_password": "y"})
    assert answer.status_code == 403


def test_a_cross_site_post_without_cookies_is_refused(other_browser_client):
    answer = other_browser_client.post("/logout", data={"csrf": "anything"})
    assert answer.status_code == 403


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b"user_id=taro&password=x", {"content-type": "application/json"}, 400),
        (b"user_id=taro&password=x", {"content-type": "multipart/form-data; boundary=x"}, 400),
        (b"user_id=\xff\xfe&password=x", FORM, 400),
        (b"&".join(b"f%d=1" % n for n in range(40)), FORM, 400),
    ],
)
def test_malformed_bodies_are_refused_before_anything_is_read(browser_client, bank, body, headers, status):
    bank.user("taro")
    token = csrf_of(browser_client.get("/login")).encode()
    before = audit_count(bank.service)
    answer = browser_client.post("/login", content=body + b"&csrf=" + token, headers=headers)
    assert answer.status_code == status
    assert "<h1>" in answer.text  # an error page, not a traceback
    assert audit_count(bank.service) == before


def test_the_longest_password_a_user_may_have_fits_in_a_login_form(browser_client, bank):
    """Four UTF-8 bytes a character, percent-encoded: 12 bytes in the form for each of them."""
    bank.user("taro")
    answer = login(browser_client, "taro", "\U0001f511" * settings.MAX_PASSWORD_CHARS)
    assert answer.status_code == 401 and "<h1>" in answer.text  # a wrong password, not a refused form


def test_a_portal_served_on_its_own_caps_forms_at_the_bodies_limit(service):
    """Behind `fob serve` the Guard refuses a longer body first (test_hostile_clients); alone, the portal."""
    with TestClient(create_portal(service, "portal-alone-key-0123"), base_url="https://testserver") as alone:
        token = csrf_of(alone.get("/login")).encode()
        body = b"a=" + b"x" * settings.MAX_BODY_BYTES + b"&csrf=" + token
        answer = alone.post("/login", content=body, headers=FORM)
    assert answer.status_code == 413 and "<h1>" in answer.text


@pytest.mark.parametrize(
    "user_id",
    ["x" * 65, "taro\x00", "' OR 1=1 --", "<script>alert(1)</script>", "../../etc/passwd", "\u202etaro"],
)
def test_odd_user_ids_fail_like_wrong_passwords(browser_client, bank, user_id):
    bank.user("taro")
    answer = login(browser_client, user_id, "login password")
    assert answer.status_code in (400, 401)
    assert "<script>alert(1)</script>" not in answer.text  # escaped when it is echoed
    assert browser_client.get("/").headers["location"] == "/login"  # not signed in


@pytest.mark.parametrize(
    "serial", ["１２３４５６７８９０１２３", "1234 5678", "12345678\n", "²³⁴⁵⁶⁷⁸⁹", "<b>12345678</b>", "9" * 10_000]
)
def test_hostile_serials_get_a_message_next_to_the_serial_field(browser_client, bank, serial):
    bank.token("20260001")
    bank.user("taro")
    login(browser_client, "taro")
    answer = submit(browser_client, "/register", {"action": "register", "serial": serial, "code": "123456"})
    assert answer.status_code in (400, 413)
    if answer.status_code == 400:
        assert 'id="serial-error"' in answer.text or 'id="code-error"' in answer.text
        assert "<b>" not in answer.text
    assert bank.service.status("taro").serial is None


def test_an_administrator_cannot_target_themselves_or_unknown_users(browser_client, bank):
    serial = bank.token("20260001")
    bank.user("boss", role="master", serial=serial)
    login(browser_client, "boss")
    bank.clock.advance(60)
    submit(browser_client, "/login/code", {"code": bank.code(serial)})
    for target in ("boss", "nobody", "x" * 500):
        answer = submit(
            browser_client,
            "/manage/revoke",
            {"target": target, "confirmation_password": CONFIRMATION, "code": "123456"},
        )
        assert answer.status_code in (400, 413)
    assert bank.service.status("boss").serial == serial


def test_unknown_pages_and_methods_are_answered_plainly(browser_client):
    assert browser_client.get("/nowhere").status_code == 404
    assert browser_client.get("/logout").status_code == 405
    assert browser_client.get("/api/v1/nowhere").json()["error"] in ("not_found", "unauthorized")


def test_a_mistyped_api_route_is_answered_as_the_api_does_under_a_root_path_too(service, clock):
    """Behind a proxy that mounts the service under a prefix (uvicorn --root-path), an API caller's
    mistyped route is still the API's JSON 404, not the portal's page."""
    keyed = {"Authorization": "Bearer " + API_KEY}
    for root in ("", "/bank"):
        with TestClient(build_app(service, clock), root_path=root, headers=keyed) as client:
            answer = client.get(root + "/api/v1/nowhere")
            assert answer.status_code == 404 and answer.json()["error"] == "not_found"


def test_only_pages_from_this_site_may_frame_or_submit_and_nothing_is_cached(browser_client):
    page = browser_client.get("/login")
    policy = page.headers["content-security-policy"]
    assert "form-action 'self'" in policy and "default-src 'none'" in policy
    assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
    assert 'method="post"' in page.text and "password" not in str(page.url)
