"""Seed files for OATH systems that take no PSKC: pam_oath's usersfile (liboath) and the OATH CSV
(privacyIDEA's token import).  Both hold the seeds in hex, unencrypted."""

import re

from fobhost.export import ExportError, read_file

USER = re.compile(r"[A-Za-z0-9._@-]{1,64}\Z")
# privacyIDEA's OATH CSV reader takes the hash from the key's length (tokenclass.get_import_csv)
OATHCSV_SEED_BYTES = {"sha1": (20,), "sha256": (32,), "sha512": (64,)}


def read_user_map(path):
    """{serial: user} from ``path``: one "SERIAL USER" pair a line; blank lines and # comments are skipped."""
    try:
        text = read_file(path).decode("utf-8", "strict")
    except UnicodeDecodeError:
        raise ExportError("%s: the user map is not UTF-8 text" % path) from None
    users = {}
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        if len(fields) != 2 or not fields[0].isdigit() or not USER.match(fields[1]):
            raise ExportError("%s line %d: expected SERIAL USER (user of letters, digits, . _ @ -)" % (path, number))
        if fields[0] in users:
            raise ExportError("%s line %d: serial %s is mapped twice" % (path, number, fields[0]))
        users[fields[0]] = fields[1]
    if not users:
        raise ExportError("%s: the user map names no fobs" % path)
    return users


def usersfile_text(tokens, users):
    """pam_oath's usersfile: "HOTP/T<period>/<digits> <user> - <hex seed>" for each fob.

    liboath (oath_authenticate_usersfile) checks HMAC-SHA1 codes only, so SHA-256/512 fobs are
    refused, named, rather than written where no code of theirs would ever be accepted.
    """
    unfit = [record.serial for record, _ in tokens if record.algorithm != "sha1"]
    if unfit:
        raise ExportError("liboath checks only HMAC-SHA1 fobs; these are not: %s" % ", ".join(unfit))
    lines = ["# pam_oath usersfile written by fob export: type user pin secret"]
    for record, seed in tokens:
        lines.append("HOTP/T%d/%d\t%s\t-\t%s" % (record.period, record.digits, users[record.serial], seed.hex()))
    return ("\n".join(lines) + "\n").encode()


def oathcsv_text(tokens):
    """The OATH CSV: "serial, hex seed, totp, digits, period" a line, as privacyIDEA imports it."""
    unfit = [r.serial for r, seed in tokens if len(seed) not in OATHCSV_SEED_BYTES.get(r.algorithm, ())]
    if unfit:
        raise ExportError(
            "the OATH CSV has no hash column (importers guess it from the seed length: 20 bytes SHA-1, "
            "32 SHA-256, 64 SHA-512); these fobs do not fit: %s" % ", ".join(unfit)
        )
    lines = ["%s, %s, totp, %d, %d" % (r.serial, seed.hex(), r.digits, r.period) for r, seed in tokens]
    return ("\n".join(lines) + "\n").encode()
