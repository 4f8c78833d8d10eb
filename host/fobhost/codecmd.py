"""`fob code`: print the TOTP code of a base32 secret, as a token would show it."""

import time

from fobcore import base32, hashes, otp
from fobhost.errors import UsageError


def register(subparsers):
    parser = subparsers.add_parser(
        "code",
        help="print the TOTP code of a base32 secret",
        description="Print the TOTP (RFC 6238) code of a base32 secret for now or a given time.",
    )
    parser.add_argument("secret", metavar="SECRET", help="the seed in base32 (case, spaces, dashes, padding ignored)")
    parser.add_argument("--time", type=int, metavar="UNIX", help="Unix time to compute the code for (default: now)")
    parser.add_argument("--period", type=int, default=otp.DEFAULT_PERIOD, help="time step in seconds (default: 60)")
    parser.add_argument("--digits", type=int, default=6, help="code length, 6 to 10 (default: 6)")
    parser.add_argument("--algorithm", default="sha1", help="sha1, sha256 or sha512 (default: sha1)")
    parser.add_argument("--t0", type=int, default=0, metavar="UNIX", help="Unix time of step 0 (default: 0)")
    parser.add_argument("-v", "--verbose", action="store_true", help="also print the time step and seconds left")
    parser.set_defaults(run=run)


def run(args):
    if args.algorithm not in hashes.ALGORITHMS:
        raise UsageError("unknown algorithm '%s' (choose from %s)" % (args.algorithm, ", ".join(hashes.ALGORITHMS)))
    try:
        key = base32.decode(args.secret)
        if not key:
            raise UsageError("the secret is empty")
        unix_time = int(time.time()) if args.time is None else args.time
        code = otp.totp(key, unix_time, period=args.period, digits=args.digits, algorithm=args.algorithm, t0=args.t0)
    except (ValueError, hashes.UnsupportedAlgorithm) as error:
        raise UsageError(str(error)) from None
    print(code)
    if args.verbose:
        step = otp.time_step(unix_time, args.period, args.t0)
        left = otp.seconds_left(unix_time, args.period, args.t0)
        print("time step %d, %d s left" % (step, left))
