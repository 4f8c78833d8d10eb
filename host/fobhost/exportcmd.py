"""`fob export`: write inventory seeds as PSKC (RFC 6030) or CSV for the validation service."""

import io
import sys
from pathlib import Path

from fobhost import cliopts, export, outfile
from fobhost.errors import UsageError
from fobhost.inventory import InventoryError


def register(subparsers):
    parser = subparsers.add_parser(
        "export",
        help="export seeds as PSKC or CSV",
        description="Write the seeds of the given fobs (default: all in the inventory) to a seed file. "
        "PSKC needs one of --password-file, --psk-file or --plaintext; "
        "CSV cannot be protected, so it needs --plaintext.",
    )
    parser.add_argument("serials", nargs="*", metavar="SERIAL", help="serial numbers to export (default: all)")
    parser.add_argument("--format", choices=("pskc", "csv"), default="pskc", help="file format (default: pskc)")
    parser.add_argument("-o", "--output", required=True, metavar="FILE", help="the file to write (mode 0600)")
    parser.add_argument("--force", action="store_true", help="replace FILE if it exists")
    protection = parser.add_mutually_exclusive_group()
    protection.add_argument("--password-file", metavar="FILE", help="PBKDF2 + AES-256 with the password in FILE")
    protection.add_argument("--psk-file", metavar="FILE", help="AES with the pre-shared key in FILE (hex)")
    protection.add_argument("--plaintext", action="store_true", help="write the seeds unencrypted")
    cliopts.add_inventory(parser)
    parser.set_defaults(run=run)


def _protection(args):
    if not (args.password_file or args.psk_file or args.plaintext):
        raise UsageError("say how to protect the seeds: --password-file, --psk-file or --plaintext")
    if args.format == "csv" and not args.plaintext:
        raise UsageError("CSV cannot be encrypted: use --format pskc, or --plaintext to write CSV")
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
    return used


def run(args):
    try:
        protection = _protection(args)
        with cliopts.open_inventory(args, create=False) as inventory:
            in_use = _files_in_use(args, inventory)
            outfile.check(args.output, args.force, in_use)  # before the seeds are decrypted
            records = inventory.tokens(args.serials)
            if not records:
                raise UsageError("the inventory %s holds no fobs" % inventory.path)
            tokens = [(record, inventory.seed(record.serial)) for record in records]
        if args.format == "csv":
            data = export.csv_text(tokens)
        else:
            out = io.BytesIO()
            export.pskc_document(tokens, protection).write(out)
            data = out.getvalue()
        outfile.write(args.output, data, args.force, in_use)
    except (export.ExportError, InventoryError, outfile.OutputError) as error:
        raise UsageError(str(error)) from None
    kind = (
        "unencrypted"
        if protection is None
        else ("password-protected" if protection[0] == "password" else "PSK-protected")
    )
    print("wrote %d fob(s) to %s (%s %s)" % (len(tokens), args.output, kind, args.format.upper()), file=sys.stderr)
