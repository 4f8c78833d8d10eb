"""`fob provision`, `fob info` and `fob wipe` over a real pty with pyserial, against the device side in CPython."""

import io
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fobcore.protocol import DeviceHandler, crc16, decode_frame, encode_frame
from fobcore.record import RECORD_NAME
from fobcore.token import Token
from fobhost import provisioning
from fobhost.cli import main
from fobhost.inventory import Inventory
from fobhost.serialclient import DeviceClient, DeviceError, LinkError
from oracles import pyotp_totp_at


def fob_main(*argv):
    return main(list(argv))


def test_provision_then_info_then_wipe(fob, inventory_path, capsys):
    assert fob_main("provision", "--port", fob.port, "--inventory", str(inventory_path)) == 0
    out = capsys.readouterr().out
    assert "fob 1000000016 provisioned and sealed (sha1, 6 digits, 60 s, expires" in out
    assert fob.token.state == "SEALED" and not fob.board.kbd_intr_enabled
    with Inventory(inventory_path) as inventory:
        [record] = inventory.tokens()
        seed = inventory.seed("1000000016")
    assert (record.serial, record.algorithm, record.digits, record.period) == ("1000000016", "sha1", 6, 60)
    assert seed == fob.token.record.seed and len(seed) == 20
    now = fob.board.time()
    assert fob.token.code_now()[0] == pyotp_totp_at(seed, now)
    assert seed.hex() not in out

    assert fob_main("info", "--port", fob.port) == 0
    info = dict(line.split(None, 1) for line in capsys.readouterr().out.splitlines())
    assert info["serial"] == "1000000016" and info["state"] == "SEALED"
    assert info["firmware"] == "0.1.0" and info["protocol"] == "1" and "device - host: +0 s" in info["clock"]

    assert fob_main("wipe", "--port", fob.port) == 2  # SEALED, no --yes, no terminal to ask on
    assert "pass --yes" in capsys.readouterr().err and fob.token.state == "SEALED"
    assert fob_main("wipe", "--port", fob.port, "--yes") == 0
    assert fob.token.state == "BLANK" and fob.board.kbd_intr_enabled


@pytest.mark.parametrize("algorithm, length", [("sha256", 32), ("sha512", 64)])
def test_seed_length_follows_rfc_6238(fob, inventory_path, algorithm, length):
    argv = ["provision", "--port", fob.port, "--inventory", str(inventory_path), "--algorithm", algorithm]
    assert fob_main(*argv, "--digits", "8", "--period", "30", "--serial", "12345674") == 0
    record = fob.token.record
    assert (record.algorithm, record.digits, record.period, record.serial, len(record.seed)) == (
        algorithm,
        8,
        30,
        "12345674",
        length,
    )


def test_count_provisions_fobs_in_a_row_with_fresh_serials(make_fob, fob, inventory_path, monkeypatch, capsys):
    plugged = [fob]

    class NextFobOnEnter(io.StringIO):
        def readline(self):
            new = make_fob()
            fob.device.handler = new.handler  # the same port, another board behind it
            plugged.append(new)
            return "\n"

    monkeypatch.setattr("sys.stdin", NextFobOnEnter())
    argv = ["provision", "--port", fob.port, "--inventory", str(inventory_path), "--count", "3"]
    assert fob_main(*argv, "--serial-prefix", "42") == 0
    serials = [f.token.serial for f in plugged]
    assert serials == ["4200000018", "4200000026", "4200000034"]
    assert all(f.token.state == "SEALED" for f in plugged)
    with Inventory(inventory_path) as inventory:
        assert [t.serial for t in inventory.tokens()] == serials
        assert inventory.next_serial() == "4200000042"
    assert "Plug in fob 3 of 3" in capsys.readouterr().err


def test_a_sealed_device_is_refused_and_left_untouched(fob, inventory_path, capsys):
    assert fob_main("provision", "--port", fob.port, "--inventory", str(inventory_path)) == 0
    before = fob.files()
    assert fob_main("provision", "--port", fob.port, "--inventory", str(inventory_path)) == 2
    err = capsys.readouterr().err
    assert "step INFO failed" in err and "SEALED already" in err and "left untouched" in err
    assert fob.files() == before and fob.token.state == "SEALED"
    with Inventory(inventory_path) as inventory:
        assert len(inventory.tokens()) == 1


@pytest.mark.parametrize("lose", ["clock", "time"])
def test_a_sealed_device_in_another_state_is_left_untouched(fob, inventory_path, capsys, lose):
    """A sealed fob whose RTC lost power, or came back in the year 2000, reports CLOCK at INFO, not SEALED."""
    assert fob_main("provision", "--port", fob.port, "--inventory", str(inventory_path)) == 0
    fob.board.unix_time = None if lose == "clock" else 946_684_800  # a flat RTC cell, or an RTC reset to 2000
    assert fob.token.state == "CLOCK" and fob.token.sealed
    before = fob.files()
    assert fob_main("provision", "--port", fob.port, "--inventory", str(inventory_path)) == 2
    err = capsys.readouterr().err
    assert "step INFO failed" in err and "SEALED (showing CLOCK) already" in err and "left untouched" in err
    assert fob.files() == before and fob.token.sealed
    with Inventory(inventory_path) as inventory:
        assert len(inventory.tokens()) == 1
    assert fob_main("wipe", "--port", fob.port) == 2  # sealed, whatever it shows: not without --yes
    assert "is sealed; pass --yes" in capsys.readouterr().err and fob.files() == before


def test_a_serial_in_the_inventory_is_never_reused(fob, inventory_path, capsys):
    argv = ["provision", "--port", fob.port, "--inventory", str(inventory_path), "--serial", "87654323"]
    assert fob_main(*argv) == 0
    assert fob_main("wipe", "--port", fob.port, "--yes") == 0
    assert fob_main(*argv) == 2
    assert "87654323 is already in the inventory" in capsys.readouterr().err
    assert fob.token.state == "BLANK"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--serial", "1234567"], "--serial must be 8 to 12 digits"),
        (["--serial", "12345678901234"], "--serial must be 8 to 12 digits"),
        (["--serial", "12345678"], "--serial 12345678 has a wrong check digit"),
        (["--digits", "5"], "--digits must be 6 to 10"),
        (["--period", "0"], "--period must be 1 to 3600 seconds"),
        (["--valid-years", "0"], "--valid-years must be 1 to 30"),
        (["--count", "0"], "--count must be at least 1"),
        (["--count", "2", "--serial", "12345674"], "--serial names one fob"),
        (["--serial-prefix", "12x"], "serial prefix must be 1 to 6 digits"),
    ],
)
def test_bad_arguments(fob, inventory_path, capsys, argv, message):
    assert fob_main("provision", "--port", fob.port, "--inventory", str(inventory_path), *argv) == 2
    assert message in capsys.readouterr().err
    assert fob.token.state == "BLANK"


@pytest.mark.parametrize("command", ["info", "wipe", "provision"])
@pytest.mark.parametrize("timeout", ["-1", "0", "nan", "inf", "1e9"])
def test_a_bad_timeout_is_a_one_line_error(fob, inventory_path, capsys, command, timeout):
    argv = [command, "--port", fob.port, "--timeout", timeout, "--inventory", str(inventory_path)]
    before = fob.files()
    assert fob_main(*argv[: None if command == "provision" else -2]) == 2
    err = capsys.readouterr().err
    assert "--timeout must be above 0 and at most 600 seconds" in err and err.count("\n") == 1
    assert fob.files() == before and fob.token.state == "BLANK"


def test_a_missing_port_is_a_clear_error(tmp_path, capsys):
    assert fob_main("info", "--port", str(tmp_path / "ttyACM9")) == 2
    assert "open: cannot open" in capsys.readouterr().err


# -- fault injection: a handler in front of the real one ------------------------------------------


class Faulty:
    """Passes frames to the real handler; ``fault(command, reply, attempt)`` may rewrite or drop the reply."""

    def __init__(self, handler, fault):
        self.inner = handler
        self.fault = fault
        self.attempts = {}

    def handle(self, line):
        try:
            command = decode_frame(line)[1].split(" ")[0] if line else None
        except ValueError:
            command = None
        reply = self.inner.handle(line)
        self.attempts[command] = self.attempts.get(command, 0) + 1
        return self.fault(command, reply, self.attempts[command])


def reframed(reply, change):
    """``reply`` with its body changed by ``change`` and a valid CRC again."""
    seq, body = decode_frame(reply[:-1])
    return encode_frame(seq, change(body))


def run_provisioning(fob, inventory_path, fault, timeout=0.3):
    fob.device.handler = Faulty(fob.handler, fault)
    with Inventory(inventory_path) as inventory, DeviceClient(fob.port, timeout=timeout) as client:
        return provisioning.provision(client, inventory)


def inventory_is_empty(inventory_path):
    with Inventory(inventory_path) as inventory:
        return inventory.tokens() == []


STEPS = ["SET-TIME", "PROVISION", "CHECK", "SEAL"]


@pytest.mark.parametrize("step", STEPS)
def test_device_disappears_mid_provisioning(fob, inventory_path, step):
    def unplug(command, reply, attempt):
        if command == step:
            fob.device.close()
            return None
        return reply

    with pytest.raises(provisioning.ProvisioningError) as raised:
        run_provisioning(fob, inventory_path, unplug)
    assert raised.value.step == step and raised.value.wiped is False
    assert "went away" in str(raised.value) and "could NOT be wiped" in str(raised.value)
    assert inventory_is_empty(inventory_path)


@pytest.mark.parametrize("step", STEPS)
def test_no_reply_at_a_step_wipes_the_device(fob, inventory_path, step):
    with pytest.raises(provisioning.ProvisioningError) as raised:
        run_provisioning(fob, inventory_path, lambda command, reply, attempt: None if command == step else reply)
    assert raised.value.step == step and raised.value.wiped is True
    assert "no reply within 0.3 s after 3 attempts" in str(raised.value)
    assert fob.token.state == "BLANK" and fob.board.kbd_intr_enabled and inventory_is_empty(inventory_path)


def garble(reply):
    return reply[:12] + bytes([reply[12] ^ 0x20]) + reply[13:]


def wrong_crc(reply):
    return reply[:-5] + b"%04X\n" % (crc16(reply[:-7]) ^ 0x5555)


@pytest.mark.parametrize("damage", [garble, wrong_crc, lambda reply: b"\x00\xff" + reply[5:]])
@pytest.mark.parametrize("step", STEPS)
def test_damaged_replies_at_a_step_wipe_the_device(fob, inventory_path, step, damage):
    with pytest.raises(provisioning.ProvisioningError) as raised:
        run_provisioning(
            fob, inventory_path, lambda command, reply, attempt: damage(reply) if command == step else reply
        )
    assert raised.value.step == step and raised.value.wiped is True
    assert fob.token.state == "BLANK" and inventory_is_empty(inventory_path)


@pytest.mark.parametrize("damage", [garble, wrong_crc, lambda reply: None])
def test_one_lost_or_damaged_reply_per_step_is_retried_safely(fob, inventory_path, damage):
    def first_attempt_fails(command, reply, attempt):
        return damage(reply) if command != "INFO" and attempt == 1 else reply

    done = run_provisioning(fob, inventory_path, first_attempt_fails)
    assert fob.token.state == "SEALED" and fob.token.serial == done.serial
    with Inventory(inventory_path) as inventory:
        assert inventory.seed(done.serial) == fob.token.record.seed


def test_a_wrong_code_fails_the_check(fob, inventory_path):
    def lie(command, reply, attempt):
        if command == "CHECK":
            return reframed(reply, lambda body: "OK code=%06d" % ((int(body[8:]) + 1) % 10**6))
        return reply

    with pytest.raises(provisioning.ProvisioningError) as raised:
        run_provisioning(fob, inventory_path, lie)
    assert raised.value.step == "CHECK" and "does not match" in str(raised.value)
    assert fob.token.state == "BLANK" and inventory_is_empty(inventory_path)


def test_an_unsupported_algorithm_is_refused_before_anything_is_sent(fob, inventory_path):
    def sha1_only(command, reply, attempt):
        return (
            reframed(reply, lambda body: body.replace("alg=sha1,sha256,sha512", "alg=sha1"))
            if command == "INFO"
            else reply
        )

    fob.device.handler = Faulty(fob.handler, sha1_only)
    with Inventory(inventory_path) as inventory, DeviceClient(fob.port, timeout=0.3) as client:
        with pytest.raises(provisioning.ProvisioningError) as raised:
            provisioning.provision(client, inventory, algorithm="sha512")
    assert raised.value.step == "INFO" and "cannot compute sha512" in str(raised.value)
    assert raised.value.wiped is None and fob.device.handler.attempts == {"INFO": 1}


def test_a_serial_taken_meanwhile_fails_the_record_step_and_wipes(fob, inventory_path):
    """Another desk recorded the same number while this fob was being sealed."""

    def other_desk(command, reply, attempt):
        if command == "SEAL":
            with Inventory(inventory_path) as desk:
                desk.record("1000000016", b"x" * 20, "sha1", 6, 60, 2_000_000_000, "other", "0.1.0")
        return reply

    with pytest.raises(provisioning.ProvisioningError) as raised:
        run_provisioning(fob, inventory_path, other_desk)
    assert raised.value.step == "RECORD" and raised.value.wiped is True
    assert fob.token.state == "BLANK"
    with Inventory(inventory_path) as inventory:
        assert [t.board for t in inventory.tokens()] == ["other"]


def test_errors_never_carry_the_seed(fob, inventory_path):
    seen = []

    def capture(command, reply, attempt):
        if command == "PROVISION":
            seen.append(fob.token.record.seed)
            return garble(reply)
        return reply

    with pytest.raises(provisioning.ProvisioningError) as raised:
        run_provisioning(fob, inventory_path, capture)
    text = "%s %r" % (raised.value, raised.value.args)
    for seed in seen:
        assert seed.hex() not in text and seed.hex().upper() not in text
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_replies_without_our_number_and_noise_are_skipped(fob):
    def chatty(command, reply, attempt):
        return b"MicroPython v1.27.0 boot banner\r\n" + encode_frame(7, "OK stale=1") + reply

    fob.device.handler = Faulty(fob.handler, chatty)
    with DeviceClient(fob.port, timeout=0.5) as client:
        assert client.request("INFO")["state"] == "BLANK"


def test_pty_device_reports_handler_crashes(fob):
    class Broken:
        def handle(self, line):
            raise RuntimeError("bug")

    fob.device.handler = Broken()
    with DeviceClient(fob.port, timeout=0.2, attempts=1) as client, pytest.raises(Exception, match="no reply"):
        client.request("INFO")
    assert isinstance(fob.device.error, RuntimeError)
    fob.device.error = None


def test_a_failure_in_a_batch_names_the_fob_and_keeps_the_ones_done(make_fob, fob, inventory_path, monkeypatch, capsys):
    sealed_elsewhere = make_fob()
    now = int(time.time())
    sealed_elsewhere.board.set_time(now)
    sealed_elsewhere.token.provision(b"s" * 20, "sha1", 6, 60, "55555555", now + 86400)
    sealed_elsewhere.token.seal()

    class PlugInTheSealedOne(io.StringIO):
        def readline(self):
            if fob.device.handler is sealed_elsewhere.handler:
                return ""  # Ctrl-D at the second prompt
            fob.device.handler = sealed_elsewhere.handler
            return "\n"

    monkeypatch.setattr("sys.stdin", PlugInTheSealedOne())
    argv = ["provision", "--port", fob.port, "--inventory", str(inventory_path), "--count", "2"]
    assert fob_main(*argv) == 2
    err = capsys.readouterr().err
    assert "fob 2 of 2: step INFO failed: the device 55555555 is SEALED already" in err
    assert "stopped before fob 2 of 2" in err
    with Inventory(inventory_path) as inventory:
        assert [t.serial for t in inventory.tokens()] == [fob.token.serial]
    assert sealed_elsewhere.token.serial == "55555555" and sealed_elsewhere.token.state == "SEALED"


def test_ctrl_c_at_the_desk_wipes_the_device(fob, inventory_path):
    real_clock = time.time
    calls = []

    def clock():
        calls.append(1)
        if len(calls) == 2:  # the clock is read again just before CHECK
            raise KeyboardInterrupt
        return real_clock()

    with Inventory(inventory_path) as inventory, DeviceClient(fob.port, timeout=0.3) as client:
        with pytest.raises(provisioning.ProvisioningError) as raised:
            provisioning.provision(client, inventory, clock=clock)
    assert raised.value.step == "CHECK" and "interrupted" in str(raised.value) and raised.value.wiped is True
    assert fob.token.state == "BLANK" and inventory_is_empty(inventory_path)


def test_ctrl_c_just_after_the_record_keeps_the_recorded_fob(fob, inventory_path, monkeypatch, capsys):
    """A Ctrl-C landing after the inventory commit must not wipe a fob the inventory now holds."""
    record = Inventory.record

    def record_then_interrupt(self, *args, **kwargs):
        record(self, *args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(Inventory, "record", record_then_interrupt)
    assert fob_main("provision", "--port", fob.port, "--inventory", str(inventory_path)) == 130
    assert "interrupted" in capsys.readouterr().err
    assert fob.token.state == "SEALED"
    with Inventory(inventory_path) as inventory:
        [recorded] = inventory.tokens()
        assert inventory.seed(recorded.serial) == fob.token.record.seed


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.binary(max_size=80) | st.sampled_from([b"\n", b"FOB1 ", b" *", b"OK ", b"ERR "]), max_size=12))
def test_fuzz_the_host_survives_any_reply(fob, replies):
    """Whatever comes back, the client answers with a fields dict or one of its two errors, in bounded time."""
    fob.device.handler = Faulty(fob.handler, lambda command, reply, attempt: b"".join(replies) + b"\n")
    with DeviceClient(fob.port, timeout=0.05, attempts=2) as client:
        try:
            client.request("INFO")
        except (DeviceError, LinkError) as error:
            assert str(error).startswith("INFO")


def test_info_from_a_device_with_an_absurd_clock_is_printed_not_a_traceback(fob, capsys):
    def absurd(command, reply, attempt):
        return reframed(reply, lambda body: body.replace("time=-", "time=" + "9" * 20))

    fob.device.handler = Faulty(fob.handler, absurd)
    assert fob_main("info", "--port", fob.port) == 0
    out = capsys.readouterr().out
    assert "99999999999999999999 (not a valid time)" in out


def test_a_corrupt_record_is_overwritten_by_provisioning(fob, inventory_path):
    (Path(fob.board.storage_dir()) / RECORD_NAME).write_bytes(b"FOBS\x01 truncated")
    fob.device.handler = DeviceHandler(Token(fob.board))
    with DeviceClient(fob.port) as client:
        assert client.request("INFO")["state"] == "CORRUPT"
    assert fob_main("provision", "--port", fob.port, "--inventory", str(inventory_path)) == 0
    assert fob.device.handler.token.state == "SEALED"


def test_a_device_speaking_another_protocol_version_is_refused(fob, inventory_path):
    def version_two(command, reply, attempt):
        return reframed(reply, lambda body: body.replace("proto=1", "proto=2"))

    with pytest.raises(provisioning.ProvisioningError) as raised:
        run_provisioning(fob, inventory_path, version_two)
    assert raised.value.step == "INFO" and "speaks protocol 2, not 1" in str(raised.value)
    assert raised.value.wiped is None and fob.device.handler.attempts == {"INFO": 1}


def test_a_silent_port_is_a_clear_error(fob, capsys):
    fob.device.handler = Faulty(fob.handler, lambda command, reply, attempt: None)
    assert fob_main("info", "--port", fob.port, "--timeout", "0.2") == 2
    assert capsys.readouterr().err == "fob info: error: INFO: no reply within 0.2 s after 3 attempts\n"
