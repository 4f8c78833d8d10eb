"""The eight rules of the bank's customer guide, each at its exact boundaries, through the library API."""

import base64
import datetime

import pyotp
import pytest

from fobauth import errors

MINUTE = 60
PERIOD = 60
DAY = 86400
CONFIRMATION = "confirmation pass"  # what the bank fixture gives every user


def refused(code):
    """pytest.raises for the AuthError with the stable ``code``."""
    error_type = next(e for e in errors.ALL if e.code == code)
    return pytest.raises(error_type)


# -- 1. registration ----------------------------------------------------------------------------


def test_new_user_must_register_and_registration_binds_the_token(bank):
    bank.add_token("12345678")
    bank.user("alice")
    before = bank.service.status("alice")
    assert before.must_register and before.serial is None
    after = bank.service.register("alice", "12345678", bank.code("12345678"))
    assert after.serial == "12345678" and not after.must_register
    bank.clock.advance(MINUTE)
    bank.service.verify("alice", bank.code("12345678"))


def test_full_width_serial_and_code_are_normalised(bank):
    bank.add_token("12345678")
    bank.user("alice")
    full_width = bank.code("12345678").translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert bank.service.register("alice", "１２３４５６７８", full_width).serial == "12345678"


@pytest.mark.parametrize("serial", ["1234567", "1234567890123", "12345678a", "١٢٣٤٥٦٧٨", "", "1234 5678", "-12345678"])
def test_bad_serial_is_refused_before_anything_is_looked_up(bank, serial):
    bank.user("alice")
    with refused("bad_serial") as caught:
        bank.service.register("alice", serial, "123456")
    assert "8 to 12" in str(caught.value)
    assert bank.service.status("alice").failures == 0


def test_serial_of_8_and_of_12_digits_are_both_accepted(bank):
    for serial, user in (("12345678", "eight"), ("123456789012", "twelve")):
        bank.add_token(serial)
        bank.user(user)
        assert bank.service.register(user, serial, bank.code(serial)).serial == serial


def test_wrong_code_at_registration_binds_nothing_and_counts(bank):
    bank.add_token("12345678")
    bank.user("alice")
    with refused("invalid_code"):
        bank.service.register("alice", "12345678", "000000" if bank.code("12345678") != "000000" else "111111")
    status = bank.service.status("alice")
    assert status.serial is None and status.must_register and status.failures == 1


def test_unknown_serial_is_refused(bank):
    bank.user("alice")
    with refused("unknown_token"):
        bank.service.register("alice", "99999999", "123456")


def test_skip_keeps_registration_offered(bank):
    bank.add_token("12345678")
    bank.user("alice")
    assert bank.service.skip_registration("alice").must_register
    bank.clock.advance(DAY)
    assert bank.service.status("alice").must_register
    assert bank.service.register("alice", "12345678", bank.code("12345678")).serial == "12345678"


def test_registered_user_cannot_register_or_skip_again(bank):
    bank.registered("alice")
    bank.add_token("87654321")
    with refused("already_registered"):
        bank.service.register("alice", "87654321", bank.code("87654321"))
    with refused("already_registered"):
        bank.service.skip_registration("alice")


def test_verify_without_registration_is_not_registered(bank):
    bank.user("alice")
    with refused("not_registered"):
        bank.service.verify("alice", "123456")


def test_unknown_user_is_refused(bank):
    with refused("unknown_user"):
        bank.service.verify("nobody", "123456")


# -- 2. sharing ---------------------------------------------------------------------------------


def test_two_users_of_one_customer_share_a_token(bank):
    bank.registered("alice")
    bank.user("bob")
    assert bank.service.register("bob", "12345678", bank.code("12345678")).serial == "12345678"
    assert bank.service.status("alice").serial == "12345678"


def test_a_token_is_not_shared_across_customers(bank):
    bank.registered("alice", customer="acme")
    bank.user("mallory", customer="other")
    with refused("forbidden"):
        bank.service.register("mallory", "12345678", bank.code("12345678"))


# -- 3. one-time use ----------------------------------------------------------------------------


def test_a_code_is_accepted_once(bank):
    bank.registered("alice")
    code = bank.code("12345678")
    bank.service.verify("alice", code)
    with refused("replayed"):
        bank.service.verify("alice", code)


def test_an_earlier_code_is_refused_after_a_later_one(bank):
    bank.registered("alice")
    earlier, later = bank.code("12345678", -1), bank.code("12345678", 0)
    bank.service.verify("alice", later)
    with refused("replayed"):
        bank.service.verify("alice", earlier)


def test_a_code_used_by_one_sharer_is_refused_for_the_other(bank):
    bank.registered("alice")
    bank.user("bob")
    bank.service.register("bob", "12345678", bank.code("12345678"))
    with refused("replayed"):
        bank.service.verify("alice", bank.code("12345678"))


def test_the_registration_code_cannot_be_used_to_log_in(bank):
    bank.add_token("12345678")
    bank.user("alice")
    code = bank.code("12345678")
    bank.service.register("alice", "12345678", code)
    with refused("replayed"):
        bank.service.verify("alice", code)


def test_replays_do_not_count_as_wrong_codes(bank):
    bank.registered("alice")
    code = bank.code("12345678")
    bank.service.verify("alice", code)
    for _ in range(10):
        with refused("replayed"):
            bank.service.verify("alice", code)
    assert bank.service.status("alice").failures == 0


# -- 4. lockout ---------------------------------------------------------------------------------


def wrong(bank, serial="12345678"):
    """A code the token shows at no step of the window."""
    shown = {bank.code(serial, s) for s in range(-2, 3)}
    return next(c for c in ("000000", "111111", "222222", "333333", "444444", "555555", "666666") if c not in shown)


def test_fourth_wrong_code_does_not_suspend_the_fifth_does(bank):
    bank.registered("alice")
    for attempt in range(1, 5):
        with refused("invalid_code"):
            bank.service.verify("alice", wrong(bank))
        assert bank.service.status("alice").failures == attempt
    assert not bank.service.status("alice").suspended
    with refused("suspended"):
        bank.service.verify("alice", wrong(bank))
    status = bank.service.status("alice")
    assert status.suspended and status.failures == 5


def test_a_suspended_user_is_refused_even_with_the_right_code(bank):
    bank.registered("alice")
    for _ in range(5):
        with pytest.raises(errors.AuthError):
            bank.service.verify("alice", wrong(bank))
    with refused("suspended"):
        bank.service.verify("alice", bank.code("12345678"))


def test_a_right_code_resets_the_count(bank):
    bank.registered("alice")
    for _ in range(4):
        with refused("invalid_code"):
            bank.service.verify("alice", wrong(bank))
    bank.service.verify("alice", bank.code("12345678"))
    assert bank.service.status("alice").failures == 0
    bank.clock.advance(MINUTE)
    for _ in range(4):
        with refused("invalid_code"):
            bank.service.verify("alice", wrong(bank))
    assert not bank.service.status("alice").suspended


def test_the_limit_is_configurable(make_bank):
    bank = make_bank(max_failures=2)
    bank.registered("alice")
    with refused("invalid_code"):
        bank.service.verify("alice", wrong(bank))
    with refused("suspended"):
        bank.service.verify("alice", wrong(bank))


@pytest.mark.parametrize("code", ["12345", "1234567", "12a456", "", "１２３４５x", "1" * 10_000])
def test_malformed_codes_are_refused_without_counting(bank, code):
    bank.registered("alice")
    with refused("bad_code"):
        bank.service.verify("alice", code)
    assert bank.service.status("alice").failures == 0


# -- 5. unlock ----------------------------------------------------------------------------------


def suspend(bank, user_id):
    for _ in range(5):
        with pytest.raises(errors.AuthError):
            bank.service.verify(user_id, wrong(bank))
    assert bank.service.status(user_id).suspended


@pytest.mark.parametrize("role", ["master", "admin"])
def test_master_or_admin_lists_and_unlocks(bank, role):
    bank.registered("alice")
    bank.user("boss", role=role)
    suspend(bank, "alice")
    assert [s.user_id for s in bank.service.suspended_users("acme")] == ["alice"]
    bank.service.unlock("boss", "alice", bank.CONFIRMATION)
    status = bank.service.status("alice")
    assert not status.suspended and status.failures == 0
    assert bank.service.suspended_users("acme") == []
    bank.service.verify("alice", bank.code("12345678"))


@pytest.mark.parametrize(
    "admin, customer, role, password",
    [
        ("clerk", "acme", "user", CONFIRMATION),
        ("outsider", "other", "master", CONFIRMATION),
        ("boss", "acme", "master", "wrong confirmation"),
        ("boss", "acme", "master", "login-password"),
    ],
)
def test_others_cannot_unlock(bank, admin, customer, role, password):
    bank.registered("alice")
    bank.user(admin, customer=customer, role=role)
    suspend(bank, "alice")
    with refused("forbidden"):
        bank.service.unlock(admin, "alice", password)
    assert bank.service.status("alice").suspended


def test_nobody_unlocks_themselves(bank):
    bank.registered("boss", role="master")
    suspend(bank, "boss")
    with refused("forbidden"):
        bank.service.unlock("boss", "boss", bank.CONFIRMATION)


def test_a_suspended_administrator_unlocks_nobody(bank):
    """The guide: a suspended master asks another master; their own suspension bars them."""
    bank.registered("alice")
    bank.registered("boss", serial="87654321", role="master")
    suspend(bank, "alice")
    suspend(bank, "boss")
    with refused("forbidden"):
        bank.service.unlock("boss", "alice", bank.CONFIRMATION)
    with refused("forbidden"):
        bank.service.revoke("boss", "alice", bank.CONFIRMATION, bank.code("87654321"))
    assert bank.service.status("alice").suspended and bank.service.status("alice").serial == "12345678"
    bank.user("other boss", role="master")
    bank.service.unlock("other boss", "boss", bank.CONFIRMATION)
    bank.service.unlock("boss", "alice", bank.CONFIRMATION)


def test_unlocking_a_user_who_is_not_suspended_says_so(bank):
    bank.registered("alice")
    bank.user("boss", role="master")
    with refused("not_suspended"):
        bank.service.unlock("boss", "alice", bank.CONFIRMATION)


def test_suspended_users_lists_only_that_customer(bank):
    bank.registered("alice", customer="acme")
    bank.registered("zed", serial="87654321", customer="other")
    suspend(bank, "alice")
    assert bank.service.suspended_users("other") == []


# -- 6. revocation ------------------------------------------------------------------------------


def test_revocation_blocks_registration_for_30_minutes(bank):
    bank.registered("alice")
    bank.user("boss", role="admin")
    status = bank.service.revoke("boss", "alice", bank.CONFIRMATION)
    assert status.serial is None and status.cooldown_until == bank.clock.now + 30 * MINUTE
    with refused("not_registered"):
        bank.service.verify("alice", bank.code("12345678"))
    bank.clock.advance(29 * MINUTE)
    assert not bank.service.status("alice").must_register
    with refused("revoked_cooldown"):
        bank.service.register("alice", "12345678", bank.code("12345678"))
    bank.clock.advance(2 * MINUTE)
    assert bank.service.status("alice").must_register
    assert bank.service.register("alice", "12345678", bank.code("12345678")).serial == "12345678"


def test_cooldown_ends_exactly_at_its_configured_length(make_bank):
    bank = make_bank(revocation_cooldown=600)
    bank.registered("alice")
    bank.user("boss", role="master")
    bank.service.revoke("boss", "alice", bank.CONFIRMATION)
    bank.clock.advance(599)
    with refused("revoked_cooldown"):
        bank.service.register("alice", "12345678", bank.code("12345678"))
    bank.clock.advance(1)
    bank.service.register("alice", "12345678", bank.code("12345678"))


def test_an_admin_with_a_token_must_give_their_current_code(bank):
    bank.registered("alice")
    bank.registered("boss", serial="87654321", role="master")
    with refused("bad_code"):
        bank.service.revoke("boss", "alice", bank.CONFIRMATION)
    with refused("invalid_code"):
        bank.service.revoke("boss", "alice", bank.CONFIRMATION, wrong(bank, "87654321"))
    assert bank.service.status("boss").failures == 1
    assert bank.service.status("alice").serial == "12345678"
    bank.service.revoke("boss", "alice", bank.CONFIRMATION, bank.code("87654321"))
    assert bank.service.status("alice").serial is None
    with refused("replayed"):
        bank.service.verify("boss", bank.code("87654321"))


def test_others_cannot_revoke(bank):
    bank.registered("alice")
    bank.user("clerk")
    bank.user("boss", role="master")
    with refused("forbidden"):
        bank.service.revoke("clerk", "alice", bank.CONFIRMATION)
    with refused("forbidden"):
        bank.service.revoke("boss", "alice", "wrong")
    assert bank.service.status("alice").serial == "12345678"


def test_revoking_one_sharer_leaves_the_other(bank):
    bank.registered("alice")
    bank.user("bob")
    bank.service.register("bob", "12345678", bank.code("12345678"))
    bank.clock.advance(MINUTE)
    bank.user("boss", role="master")
    bank.service.revoke("boss", "alice", bank.CONFIRMATION)
    bank.service.verify("bob", bank.code("12345678"))


def test_revoking_a_user_without_token_says_so(bank):
    bank.user("alice")
    bank.user("boss", role="master")
    with refused("not_registered"):
        bank.service.revoke("boss", "alice", bank.CONFIRMATION)


# -- 7. validity --------------------------------------------------------------------------------


def test_codes_are_refused_from_the_expiry_instant_on(bank):
    expiry = bank.clock.now + 10 * DAY
    bank.add_token("12345678", expiry=expiry)
    bank.registered("alice")
    bank.clock.now = expiry - MINUTE
    bank.service.verify("alice", bank.code("12345678"))
    bank.clock.now = expiry
    with refused("expired"):
        bank.service.verify("alice", bank.code("12345678"))
    assert bank.service.status("alice").failures == 0


def test_expiry_is_capped_at_five_years_from_import(bank):
    start = bank.clock.now
    bank.add_token("12345678", expiry=start + 20 * 365 * DAY)
    bank.add_token("87654321")  # no expiry in the seed file: five years too
    imported = datetime.datetime.fromtimestamp(start, datetime.UTC)
    five_years = int(imported.replace(year=imported.year + 5).timestamp())
    assert five_years - start == 5 * 365 * DAY + DAY  # 2027-01-15 to 2032-01-15 spans one leap day
    assert [t.expires_at for t in bank.service.expiring(3650)] == [five_years, five_years]


def test_a_token_imported_on_29_february_expires_on_28_february(bank):
    bank.clock.now = int(datetime.datetime(2028, 2, 29, 12, tzinfo=datetime.UTC).timestamp())
    bank.add_token("12345678")
    expected = int(datetime.datetime(2033, 2, 28, 12, tzinfo=datetime.UTC).timestamp())
    assert bank.service.expiring(3650)[0].expires_at == expected


def test_expiring_lists_tokens_within_n_days_with_their_users(bank):
    bank.add_token("22222222", expiry=bank.clock.now + 30 * DAY + MINUTE)
    bank.registered("alice", serial="22222222")  # moves the clock on one minute
    now = bank.clock.now
    bank.add_token("11111111", expiry=now + 10 * DAY)
    bank.add_token("33333333", expiry=now + 30 * DAY + 1)
    bank.add_token("44444444", expiry=now)
    assert [(t.serial, t.user_ids) for t in bank.service.expiring(30)] == [
        ("11111111", ()),
        ("22222222", ("alice",)),
    ]
    assert bank.service.expiring(0) == []


@pytest.mark.parametrize("days", [-1, 3651, "7", 1.5, True])
def test_expiring_refuses_odd_day_counts(bank, days):
    with refused("bad_request"):
        bank.service.expiring(days)


# -- 8. clock drift -----------------------------------------------------------------------------


@pytest.mark.parametrize("steps, accepted", [(-2, False), (-1, True), (0, True), (1, True), (2, False)])
def test_window_is_one_step_either_side(bank, steps, accepted):
    bank.registered("alice")
    bank.clock.advance(5 * MINUTE)
    if accepted:
        bank.service.verify("alice", bank.code("12345678", steps))
    else:
        with refused("invalid_code"):
            bank.service.verify("alice", bank.code("12345678", steps))


def test_drift_is_learnt_and_the_window_follows_it(bank):
    bank.registered("alice")
    bank.service.verify("alice", bank.code("12345678", 1))  # the token runs one step fast
    bank.clock.advance(2 * MINUTE)
    bank.service.verify("alice", bank.code("12345678", 2))  # two fast: inside the window centred at +1
    bank.clock.advance(2 * MINUTE)
    bank.service.verify("alice", bank.code("12345678", 3))  # centred at +2 now, +3 is inside
    bank.clock.advance(2 * MINUTE)
    with refused("invalid_code"):
        bank.service.verify("alice", bank.code("12345678", 0))  # far behind the learnt drift


def test_a_fob_off_a_step_boundary_is_accepted_whatever_the_typing_delay(bank):
    """A fob 20 s fast, its codes typed 3-30 s after they appear: the step difference the service
    observes is +1 when the press falls late in a step and -1 when the typing crosses the server's next
    step boundary (docs/server.md, "How drift is learnt").  Each code is inside the bank's ±1 window."""
    bank.registered("alice")  # registered at a step boundary: the clock is now START + 1 min
    key, algorithm, digits = bank.seeds["12345678"]
    fob = pyotp.TOTP(base64.b32encode(key).decode(), digits=digits, digest=algorithm, interval=PERIOD)
    start = bank.clock.now - PERIOD
    for pressed, typing in [(105, 3), (330, 30), (640, 10), (930, 30), (1185, 3)]:
        shown = fob.at(start + pressed + 20)
        bank.clock.now = start + pressed + typing
        bank.service.verify("alice", shown)


def test_resynchronisation_with_two_consecutive_codes(bank):
    bank.registered("alice")
    bank.clock.advance(10 * MINUTE)
    with refused("invalid_code"):
        bank.service.verify("alice", bank.code("12345678", 6))
    bank.service.resync("alice", bank.code("12345678", 6), bank.code("12345678", 7))
    bank.clock.advance(MINUTE)
    bank.service.verify("alice", bank.code("12345678", 8))
    assert bank.service.status("alice").failures == 0


def test_resynchronisation_refuses_non_consecutive_or_far_codes(bank):
    bank.registered("alice")
    bank.clock.advance(30 * MINUTE)
    with refused("invalid_code"):
        bank.service.resync("alice", bank.code("12345678", 6), bank.code("12345678", 8))
    with refused("invalid_code"):
        bank.service.resync("alice", bank.code("12345678", 11), bank.code("12345678", 12))
    assert bank.service.status("alice").failures == 2


def test_resynchronisation_codes_are_one_time_too(bank):
    bank.registered("alice")
    pair = bank.code("12345678", 4), bank.code("12345678", 5)
    bank.service.resync("alice", *pair)
    with refused("replayed"):
        bank.service.resync("alice", *pair)
    with refused("replayed"):
        bank.service.verify("alice", bank.code("12345678", 5))


@pytest.mark.parametrize("resyncs", [1, 2])
def test_a_resync_from_old_codes_cannot_lock_the_user_out(bank, resyncs):
    """Whoever saw never-used codes from some minutes ago can resynchronise the token to that old
    position; the user's real token, still on time, must keep working (the window the token had
    before the resync stays open until a code confirms one of the two)."""
    bank.registered("alice")
    bank.clock.advance(20 * MINUTE)
    for pair in [(-9, -8), (-6, -5)][:resyncs]:
        bank.service.resync("alice", *(bank.code("12345678", step) for step in pair))
    for _ in range(5):
        bank.service.verify("alice", bank.code("12345678"))
        bank.clock.advance(MINUTE)
    status = bank.service.status("alice")
    assert (status.failures, status.suspended) == (0, False)
    with refused("invalid_code"):  # the old position is closed again once the real one is confirmed
        bank.service.verify("alice", bank.code("12345678", -4))


def test_after_a_real_resync_codes_at_the_old_position_are_refused(bank):
    bank.registered("alice")
    bank.clock.advance(10 * MINUTE)
    bank.service.resync("alice", bank.code("12345678", 6), bank.code("12345678", 7))  # the token runs fast
    bank.clock.advance(MINUTE)
    bank.service.verify("alice", bank.code("12345678", 8))  # confirms the new position
    bank.clock.advance(MINUTE)
    with refused("invalid_code"):
        bank.service.verify("alice", bank.code("12345678", 0))


def test_a_resync_and_a_third_old_code_cannot_lock_the_user_out_either(bank):
    """Codes an observer could have seen before the resync (steps up to the server's step at the
    resync) never confirm its position: the window of the position before stays open."""
    bank.registered("alice")
    bank.clock.advance(20 * MINUTE)
    bank.service.resync("alice", bank.code("12345678", -9), bank.code("12345678", -8))
    bank.service.verify("alice", bank.code("12345678", -7))
    for _ in range(5):
        bank.service.verify("alice", bank.code("12345678"))
        bank.clock.advance(MINUTE)
    assert bank.service.status("alice").failures == 0


def test_a_slow_token_resynchronised_works_at_its_new_position(bank):
    bank.registered("alice")
    bank.clock.advance(20 * MINUTE)
    bank.service.resync("alice", bank.code("12345678", -9), bank.code("12345678", -8))  # 8 minutes slow
    for _ in range(12):  # past the resync's own step: the new position is confirmed on the way
        bank.clock.advance(MINUTE)
        bank.service.verify("alice", bank.code("12345678", -8))
    with refused("invalid_code"):
        bank.service.verify("alice", bank.code("12345678", 1))  # the old position is closed now
