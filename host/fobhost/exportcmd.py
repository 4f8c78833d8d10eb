"""`fob export`: write inventory seeds as PSKC (RFC 6030), CSV, a pam_oath usersfile or OATH CSV."""

import sys
from pathlib import Path

from fobhost import cliopts, export, oathfiles, outfile
from fobhost.errors import UsageError
from fobhost.inventory import InventoryError

FORMATS = ("pskc", "csv", "usersfile", "oathcsv")


def register(subparsers):
    parser = subparsers.add_parser(
        "export",
        help="export seeds as PSKC, CSV, a pam_oath usersfile or OATH CSV",
        description="Write the seeds of the given fobs (default: all in the inventory) to a seed file. "
        "PSKC needs one of --password-file, --psk-file or --plaintext; "
        "the other formats cannot be protected, so they need --plaintext. "
        "usersfile (pam_oath/liboath) needs --users and writes the fobs it maps; "
        "oathcsv is the OATH CSV privacyIDEA imports.",
    )
    parser.add_argument("serials", nargs="*", metavar="SERIAL", help="serial numbers to export (default: all)")
    parser.add_argument("--format", choices=FORMATS, default="pskc", help="file format (default: pskc)")
    parser.add_argument("--users", metavar="FILE", help="usersfile: the user of each fob, a 'SERIAL USER' a line")
    parser.add_argument("-o", "--output", required=True, metavar="FILE", help="the file to write (mode 0600)")
    parser.add_argument("--force", action="store_true", help="replace FILE if it exists")
    protection = parser.add_mutually_exclusive_group()
    protection.add_argument("--password-file", metavar="FILE", help="PBKDF2 + AES with the password in FILE")
    protection.add_argument("--psk-file", metavar="FILE", help="AES with the pre-shared key in FILE (hex)")
    protection.add_argument("--plaintext", action="store_true", help="write the seeds unencrypted")
    parser.add_argument(
        "--profile",
        choices=sorted(export.PROFILES),
        default=export.DEFAULT_PROFILE,
        help="cipher + MAC of an encrypted PSKC (default: %(default)s, which privacyIDEA and python-pskc import; "
        "aes256-hmac-sha256 needs a 256-bit PSK and is not read by privacyIDEA)",
    )
    cliopts.add_inventory(parser)
    parser.set_defaults(run=run)


def _protection(args):
    if not (args.password_file or args.psk_file or args.plaintext):
        raise UsageError("say how to protect the seeds: --password-file, --psk-file or --plaintext")
    if args.format != "pskc" and not args.plaintext:
        raise UsageError("%s cannot be encrypted: use --format pskc, or --plaintext" % args.format)
    if (args.format == "usersfile") != bool(args.users):
        raise UsageError("--users goes with --format usersfile, which needs it")
    if args.password_file:
        return "password", export.read_password(args.password_file)
    if args.psk_file:
        return "psk", export.read_psk(args.psk_file), Path(args.psk_file).name
    return None


def _files_in_use(args, inventory):
    used = {inventory.path: "the inventory", inventory.key_path: "the inventory's key"}
    for suffix in ("-journal", "-wal", "-shm"):
        used[str(inventory.path) + suffix] = "the inventory's journal"
    if args.password_file:
        used[args.password_file] = "the password file"
    if args.psk_file:
        used[args.psk_file] = "the PSK file"
    if args.users:
        used[args.users] = "the user map"
    return used


def _check_mapped(serials, users):
    unmapped = [serial for serial in serials if users is not None and serial not in users]
    if unmapped:
        raise UsageError("the user map gives no user for: %s" % ", ".join(unmapped))


def run(args):
    try:
        protection = _protection(args)
        users = oathfiles.read_user_map(args.users) if args.users else None
        _check_mapped(args.serials, users)
        with cliopts.open_inventory(args, create=False) as inventory:
            in_use = _files_in_use(args, inventory)
            outfile.check(args.output, args.force, in_use)  # before the seeds are decrypted
            records = inventory.tokens(args.serials or (list(users) if users else None))
            if not records:
                raise UsageError("the inventory %s holds no fobs" % inventory.path)
            tokens = [(record, inventory.seed(record.serial)) for record in records]
        if args.format == "csv":
            data = export.csv_text(tokens)
        elif args.format == "usersfile":
            data = oathfiles.usersfile_text(tokens, users)
        elif args.format == "oathcsv":
            data = oathfiles.oathcsv_text(tokens)
        else:
            data = export.pskc_bytes(tokens, protection, args.profile)
        outfile.write(args.output, data, args.force, in_use)
    except (export.ExportError, InventoryError, outfile.OutputError) as error:
        raise UsageError(str(error)) from None
    kind = (
        "unencrypted"
        if protection is None
        else ("password-protected" if protection[0] == "password" else "PSK-protected")
    )
    print("wrote %d fob(s) to %s (%s %s)" % (len(tokens), args.output, kind, args.format.upper()), file=sys.stderr)
