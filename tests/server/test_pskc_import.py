"""Seeds arrive as PSKC documents (RFC 6030) written here with python-pskc's own writer; hostile
documents are refused whole, and seeds are sealed at rest and never shown."""

import base64
import datetime
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pskc
import pyotp
import pytest
from sqlalchemy import func, select

from fobauth import errors
from fobauth.pskcimport import TokenSeed
from fobauth.schema import tokens
from fobauth.seedbox import SeedBox, SeedKeyError
from fobauth.service import AuthService

TOTP = "urn:ietf:params:xml:ns:keyprov:pskc:totp"
HOTP = "urn:ietf:params:xml:ns:keyprov:pskc:hotp"
SECRET = bytes.fromhex("3132333435363738393031323334353637383930")  # the RFC 6238 SHA-1 seed


def document(*keys, password=None, psk=None, iterations=None):
    """A PSKC document with one key per dict of python-pskc key attributes, plain or protected by a
    password (PBKDF2, python-pskc's defaults unless ``iterations``) or a pre-shared AES key."""
    container = pskc.PSKC()
    for attributes in keys:
        values = {
            "secret": SECRET,
            "algorithm": TOTP,
            "time_interval": 60,
            "response_length": 6,
            "response_encoding": "DECIMAL",
        }
        values.update(attributes)
        container.add_key(**values)
    if password:
        container.encryption.setup_pbkdf2(password, iterations=iterations)
    if psk:
        algorithm = "aes%d-cbc" % (len(psk) * 8)
        container.encryption.setup_preshared_key(key=psk, key_name="vendor key", algorithm=algorithm)
    out = io.BytesIO()
    container.write(out)
    return out.getvalue()


def oracle(seed=SECRET, digits=6, digest="sha1"):
    return pyotp.TOTP(base64.b32encode(seed).decode(), digits=digits, digest=digest, interval=60)


def register_and_verify(bank, serial, totp):
    bank.user("alice")
    bank.service.register("alice", serial, totp.at(bank.clock.now))
    bank.clock.advance(60)
    bank.service.verify("alice", totp.at(bank.clock.now))


def test_plain_document_imports_and_its_codes_verify(bank):
    expiry = datetime.datetime(2029, 3, 31, tzinfo=datetime.UTC)
    assert bank.service.import_pskc(document({"serial": "20260001", "expiry_date": expiry})) == ["20260001"]
    assert bank.service.expiring(3650)[0].expires_at == int(expiry.timestamp())
    register_and_verify(bank, "20260001", oracle())


def test_password_protected_document_imports_with_its_password(bank):
    doc = document({"serial": "20260002"}, password="s3cret pass")
    assert b"MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=" not in doc  # the plain seed is not in the file
    for password in (None, "", "wrong pass"):
        with pytest.raises(errors.BadPskc):
            bank.service.import_pskc(doc, password)
    assert bank.service.expiring(3650) == []
    assert bank.service.import_pskc(doc, "s3cret pass") == ["20260002"]
    register_and_verify(bank, "20260002", oracle())


def test_sha256_eight_digit_tokens(bank):
    seed = bytes(range(32))
    doc = document({"serial": "20260003", "secret": seed, "algorithm_suite": "HMAC-SHA256", "response_length": 8})
    bank.service.import_pskc(doc)
    register_and_verify(bank, "20260003", oracle(seed, 8, "sha256"))


def test_several_keys_in_one_document(bank):
    serials = ["30000001", "30000002", "30000003"]
    assert bank.service.import_pskc(document(*({"serial": s} for s in serials))) == serials


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<pskc:KeyContainer xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc" Version="1.0">&lol4;</pskc:KeyContainer>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<pskc:KeyContainer xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc" Version="1.0">
<pskc:KeyPackage><pskc:DeviceInfo><pskc:SerialNo>&secret;</pskc:SerialNo></pskc:DeviceInfo></pskc:KeyPackage>
</pskc:KeyContainer>"""


@pytest.mark.parametrize(
    "doc",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"not xml at all", id="not-xml"),
        pytest.param(b"<a><b></a>", id="broken-xml"),
        pytest.param(b"\xff\xfe\x00garbage", id="binary"),
        pytest.param(BILLION_LAUGHS, id="billion-laughs"),
        pytest.param(EXTERNAL_ENTITY, id="external-entity"),
        pytest.param(b"<x>" + b" " * (1 << 20) + b"</x>", id="oversized"),
        pytest.param(document(), id="no-serial"),
        pytest.param(document({"serial": "1234567"}), id="short-serial"),
        pytest.param(document({"serial": "ABCDEFGH"}), id="letters-serial"),
        pytest.param(document({"serial": "40000001", "algorithm": HOTP}), id="hotp"),
        pytest.param(document({"serial": "40000001", "response_encoding": "HEXADECIMAL"}), id="hex-response"),
        pytest.param(document({"serial": "40000001", "response_length": 4}), id="four-digits"),
        pytest.param(document({"serial": "40000001", "algorithm_suite": "HMAC-MD5"}), id="md5"),
        pytest.param(document({"serial": "40000001", "secret": b""}), id="empty-secret"),
        pytest.param(document({"serial": "40000001"}, {"serial": "40000001"}), id="serial-twice"),
        pytest.param(document({"serial": "40000001"}, {"serial": "12"}), id="one-bad-key-of-two"),
    ],
)
def test_hostile_or_unsupported_documents_are_refused_whole(bank, doc):
    with pytest.raises(errors.BadPskc) as caught:
        bank.service.import_pskc(doc)
    assert "root:" not in str(caught.value)
    assert bank.service.expiring(3650) == []


def test_a_serial_already_present_refuses_the_whole_document(bank):
    bank.service.import_pskc(document({"serial": "50000001"}))
    with pytest.raises(errors.TokenExists):
        bank.service.import_pskc(document({"serial": "50000002"}, {"serial": "50000001"}))
    assert [t.serial for t in bank.service.expiring(3650)] == ["50000001"]


def test_non_bytes_document_is_refused(bank):
    with pytest.raises(errors.BadPskc):
        bank.service.import_pskc("<text/>")


def secret_forms(seed):
    return [seed.hex(), seed.hex().upper(), base64.b64encode(seed).decode(), base64.b32encode(seed).decode()]


def test_import_errors_and_the_seed_box_never_show_the_seed(bank):
    doc = document({"serial": "60000001", "response_length": 4})
    with pytest.raises(errors.BadPskc) as caught:
        bank.service.import_pskc(doc)
    shown = " ".join([str(caught.value), repr(caught.value), repr(SeedBox(bytes(32)))])
    for form in secret_forms(SECRET):
        assert form not in shown


def test_seeds_are_sealed_at_rest(bank, sqlite_url):
    bank.service.import_pskc(document({"serial": "70000001"}))
    database = sqlite_url.removeprefix("sqlite:///")
    with bank.service.engine.connect() as conn:
        sealed = conn.execute(select(tokens.c.sealed_seed)).scalar_one()
    assert SECRET not in sealed
    raw = b"".join(Path(path).read_bytes() for path in (database, database + "-wal") if Path(path).exists())
    assert raw and SECRET not in raw and SECRET.hex().encode() not in raw


def test_another_seed_key_cannot_open_the_seeds(bank, clock):
    bank.registered("alice")
    intruder = AuthService(bank.service.engine, SeedBox(bytes(32)), clock=clock)
    with pytest.raises(SeedKeyError) as caught:
        intruder.verify("alice", bank.code("12345678"))
    assert "12345678" in str(caught.value)


PASSWORD = "s3cret pass"
PSK = bytes(range(16))


def edited(doc, pattern, replacement):
    """``doc`` with one regular-expression edit, as a hostile sender would make it."""
    text, count = re.subn(pattern, replacement, doc.decode(), count=1)
    assert count == 1, pattern
    return text.encode()


PROTECTED = document({"serial": "80000001"}, password=PASSWORD, iterations=1000)
PSK_PROTECTED = document({"serial": "80000001"}, psk=PSK)


@pytest.mark.parametrize(
    "doc, password, psk, message",
    [
        pytest.param(
            edited(PROTECTED, "<IterationCount>1000<", "<IterationCount>10000000<"),
            PASSWORD,
            None,
            "iteration count is too high (at most 2600000)",
            id="ten-million-iterations",
        ),
        pytest.param(
            edited(PROTECTED, "<IterationCount>1000<", "<IterationCount>-5<"),
            PASSWORD,
            None,
            "iteration count is missing or not positive",
            id="negative-iterations",
        ),
        pytest.param(
            edited(PROTECTED, "<IterationCount>1000<", "<IterationCount>0<"),
            PASSWORD,
            None,
            "iteration count is missing or not positive",
            id="zero-iterations",
        ),
        pytest.param(
            edited(PROTECTED, "<KeyLength>16<", "<KeyLength>200000000<"),
            PASSWORD,
            None,
            "key length does not fit its cipher",
            id="huge-key-length",
        ),
        pytest.param(
            edited(PROTECTED, "<KeyLength>16<", "<KeyLength>32<"),
            PASSWORD,
            None,
            "key length does not fit its cipher",
            id="key-length-of-another-cipher",
        ),
        pytest.param(
            edited(PROTECTED, "<Specified>[^<]*<", "<Specified>%s<" % base64.b64encode(b"salt").decode()),
            PASSWORD,
            None,
            "salt must be 8 to 64 bytes",
            id="short-salt",
        ),
        pytest.param(
            edited(PROTECTED, "<Specified>[^<]*<", "<Specified>%s<" % base64.b64encode(bytes(4096)).decode()),
            PASSWORD,
            None,
            "salt must be 8 to 64 bytes",
            id="huge-salt",
        ),
        pytest.param(
            edited(
                PROTECTED,
                "</IterationCount>",
                '</IterationCount><PRF Algorithm="http://www.w3.org/2001/04/xmldsig-more#hmac-md5"/>',
            ),
            PASSWORD,
            None,
            "PBKDF2 function is not HMAC-SHA1 or HMAC-SHA2",
            id="md5-prf",
        ),
        pytest.param(
            edited(PROTECTED, "<pskc:ValueMAC>[^<]*<", "<pskc:ValueMAC>%s<" % base64.b64encode(bytes(20)).decode()),
            PASSWORD,
            None,
            "does not open",
            id="wrong-mac",
        ),
        pytest.param(
            edited(PROTECTED, "<pskc:ValueMAC>[^<]*</pskc:ValueMAC>", ""), PASSWORD, None, "has no MAC", id="no-mac"
        ),
        pytest.param(
            edited(PROTECTED, "xmldsig#hmac-sha1", "xmldsig-more#hmac-md5"), PASSWORD, None, "MAC is not", id="md5-mac"
        ),
        pytest.param(
            edited(PSK_PROTECTED, "(?s)<pskc:Secret>.*?<xenc:CipherValue>[^<]*<", lambda m: m.group(0)[:-10] + "<"),
            None,
            PSK,
            "",
            id="truncated-ciphertext",
        ),
        pytest.param(
            PSK_PROTECTED, None, bytes(32), "needs a 128-bit key; the key given has 256 bits", id="psk-length"
        ),
        pytest.param(PSK_PROTECTED, None, bytes(16), "does not open", id="wrong-psk"),
        pytest.param(PSK_PROTECTED, PASSWORD, None, "protected by a pre-shared key (vendor key)", id="psk-no-key"),
        pytest.param(PROTECTED, None, PSK, "password-protected: give its password", id="password-no-password"),
        pytest.param(PROTECTED, "wrong pass", None, "does not open", id="wrong-password"),
    ],
)
def test_hostile_protected_documents_are_refused_before_any_work(bank, doc, password, psk, message):
    with pytest.raises(errors.BadPskc) as caught:
        bank.service.import_pskc(doc, password, psk=psk)
    assert message in str(caught.value)
    assert bank.service.expiring(3650) == []
    for form in secret_forms(SECRET) + [PSK.hex()]:
        assert form not in str(caught.value)


@pytest.mark.parametrize("bits", [128, 256])
def test_psk_protected_documents_import_with_their_key(bank, bits):
    key = os.urandom(bits // 8)
    doc = document({"serial": "20260004"}, psk=key)
    assert b"vendor key" in doc and b"ValueMAC" in doc
    assert bank.service.import_pskc(doc, psk=key) == ["20260004"]
    register_and_verify(bank, "20260004", oracle())


def test_the_bound_admits_owasp_iterations_for_aes_256_with_hmac_sha1():
    from fobauth.pskcimport import pbkdf2_work
    from fobauth.settings import MAX_PBKDF2_WORK

    assert pbkdf2_work("sha1", 1_300_000, 32) <= MAX_PBKDF2_WORK < pbkdf2_work("sha1", 1_300_001, 32)
    assert pbkdf2_work("sha256", 600_000, 32) <= MAX_PBKDF2_WORK
    assert pbkdf2_work("sha512", 1_300_001, 32) > MAX_PBKDF2_WORK


def with_internal_entity(doc):
    """``doc`` with its serial number written through an internal entity: well-formed, and harmless
    in itself, but a DTD that lxml would expand."""
    head, _, rest = doc.partition(b"?>")
    return head + b'?>\n<!DOCTYPE x [<!ENTITY serial "40000009">]>' + rest.replace(b">40000009<", b">&serial;<")


ENTITY_DOCUMENT = with_internal_entity(document({"serial": "40000009"}))


def test_python_pskc_parses_with_lxml_here():
    """The premise of the next tests: lxml is installed (test extra), so python-pskc parses with it."""
    assert pskc.xml.xml_parse.__module__ == "lxml.etree"
    assert pskc.PSKC(io.BytesIO(ENTITY_DOCUMENT)).keys[0].serial == "40000009"  # lxml expands the entity


@pytest.mark.parametrize(
    "doc", [ENTITY_DOCUMENT, BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["internal", "laughs", "external"]
)
def test_dtds_and_entities_are_refused_whatever_parser_python_pskc_uses(bank, doc):
    with pytest.raises(errors.BadPskc, match="DTD"):
        bank.service.import_pskc(doc)
    assert bank.service.expiring(3650) == []


def test_dtds_are_refused_without_lxml_too():
    script = (
        "import sys; sys.modules['lxml'] = None\n"
        "from fobauth import errors, pskcimport\n"
        "import pskc.xml; assert pskc.xml.xml_parse.__module__ != 'lxml.etree'\n"
        "try:\n    pskcimport.read(sys.stdin.buffer.read())\nexcept errors.BadPskc as error:\n    print(error)\n"
    )
    refused = subprocess.run([sys.executable, "-c", script], input=ENTITY_DOCUMENT, capture_output=True, check=True)
    assert b"DTD" in refused.stdout


def test_a_library_import_larger_than_a_statement_can_name_is_checked_whole(make_bank, database_url):
    """AuthService.import_tokens takes any number of seeds (a PSKC document stops at a few thousand):
    past 65,535 serials, more than PostgreSQL takes in one statement, a taken serial is still named,
    and nothing of the import is kept."""
    bank = make_bank(database_url)
    seed = bytes(20)
    bank.service.import_tokens([TokenSeed("10065599", seed, "sha1", 6, 60, None, 0)])
    many = [TokenSeed("%08d" % (10_000_000 + i), seed, "sha1", 6, 60, None, 0) for i in range(65_600)]
    with pytest.raises(errors.TokenExists, match="10065599"):
        bank.service.import_tokens(many)
    with bank.service.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(tokens)).scalar_one() == 1
