"""`fob admin`: the validation service's administration from the shell — import seeds, create users,
list suspended users and expiring tokens — on the same database `fob serve` uses.  The server's
libraries are imported when an action runs, not when `fob` starts."""

import getpass
import sys

from fobauth.settings import ROLES
from fobhost import utc
from fobhost.errors import UsageError
from fobhost.servecmd import add_storage_options, open_service


def register(subparsers):
    parser = subparsers.add_parser(
        "admin",
        help="administer the validation service",
        description="Administer the validation service's database (the one `fob serve` uses).",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    imports = actions.add_parser("import-pskc", help="import token seeds from a PSKC file")
    imports.add_argument("file", metavar="FILE", help="PSKC (RFC 6030) file, e.g. written by `fob export`")
    protection = imports.add_mutually_exclusive_group()
    protection.add_argument("--password-file", metavar="FILE", help="file holding the PSKC file's password")
    protection.add_argument("--psk-file", metavar="FILE", help="file holding the pre-shared AES key in hex")
    imports.set_defaults(run=import_pskc)

    create = actions.add_parser(
        "create-user",
        help="create a banking user",
        description="Create a user. The login and confirmation passwords are asked for on the terminal, "
        "or read as two lines of standard input.",
    )
    create.add_argument("user_id", metavar="USER_ID")
    create.add_argument("--customer", required=True, metavar="CUSTOMER_ID", help="the business customer")
    create.add_argument("--role", choices=ROLES, default="user", help="(default: %(default)s)")
    create.set_defaults(run=create_user)

    locked = actions.add_parser("list-locked", help="list a customer's suspended users")
    locked.add_argument("customer", metavar="CUSTOMER_ID")
    locked.set_defaults(run=list_locked)

    expiring = actions.add_parser("expiring", help="list tokens expiring soon, to send replacements")
    expiring.add_argument("--days", type=int, default=30, help="within this many days (default: %(default)s)")
    expiring.set_defaults(run=list_expiring)

    for action in (imports, create, locked, expiring):
        add_storage_options(action)


def _read_secret_file(path):
    try:
        with open(path) as source:
            return source.readline().rstrip("\r\n")
    except OSError as error:
        raise UsageError("cannot read %s: %s" % (path, error.strerror)) from None


def _read_psk(path):
    from fobhost import export

    try:
        return export.read_psk(path)
    except export.ExportError as error:
        raise UsageError(str(error)) from None


def _passwords():
    if sys.stdin.isatty():
        return getpass.getpass("login password: "), getpass.getpass("confirmation password: ")
    lines = [sys.stdin.readline().rstrip("\r\n") for _ in range(2)]
    return lines[0], lines[1]


def _service_call(call, *args):
    from fobauth import errors, seedbox

    try:
        return call(*args)
    except (errors.AuthError, seedbox.SeedKeyError) as error:
        raise UsageError(str(error)) from None


def import_pskc(args):
    try:
        with open(args.file, "rb") as source:
            document = source.read()
    except OSError as error:
        raise UsageError("cannot read %s: %s" % (args.file, error.strerror)) from None
    password = _read_secret_file(args.password_file) if args.password_file else None
    psk = _read_psk(args.psk_file) if args.psk_file else None
    service = open_service(args)
    serials = _service_call(service.import_pskc, document, password, "cli", psk)
    print("imported %d token%s: %s" % (len(serials), "" if len(serials) == 1 else "s", " ".join(serials)))


def create_user(args):
    service = open_service(args)
    password, confirmation = _passwords()
    status = _service_call(service.create_user, args.user_id, args.customer, args.role, password, confirmation)
    print("created %s (%s of %s)" % (status.user_id, status.role, status.customer_id))


def list_locked(args):
    for status in _service_call(open_service(args).suspended_users, args.customer):
        print("%s\t%d wrong codes\ttoken %s" % (status.user_id, status.failures, status.serial or "-"))


def list_expiring(args):
    for token in _service_call(open_service(args).expiring, args.days):
        day = utc.text(token.expires_at, "%Y-%m-%d %H:%M UTC")
        print("%s\t%s\t%s" % (token.serial, day, ",".join(token.user_ids) or "-"))
