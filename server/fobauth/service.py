"""The bank's hardware-token rules, as a library: registration, sharing, one-time use, lockout,
unlock, revocation, validity and clock drift.

What happens to a code is decided by one pure function (fobauth.decision)
and carried out by one set of statements (fobauth.acceptance).  Everything
two requests could race on is a conditional UPDATE whose row count decides
(a step is consumed only where ``last_step < step``; failures are counted
with ``failures = failures + 1``), so the rules hold across threads and
across service processes sharing one database.  Each security event is written to the audit table in the same
transaction as the change it records.  Time comes from ``clock`` so tests
can move it.
"""

import dataclasses
import datetime
import functools
import time

from sqlalchemy import insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from fobauth import acceptance, audit, errors, passwords, pskcimport
from fobauth.acceptance import USER_COLUMNS
from fobauth.administration import Administration
from fobauth.checks import Checks
from fobauth.database import Dropped, once_more_if_dropped
from fobauth.hotpath import FastPath
from fobauth.registration import Registration
from fobauth.schema import tokens, users
from fobauth.settings import MAX_EXPIRING_DAYS, MAX_ID_CHARS, MAX_PASSWORD_CHARS, ROLES

DAY = 86400
# Serials looked up per query when importing: PostgreSQL takes at most 65,535 parameters a statement.
_SERIALS_PER_QUERY = 10_000


@dataclasses.dataclass(frozen=True)
class Policy:
    """The configurable numbers of the rules; the defaults are the bank's."""

    max_failures: int = 5  # consecutive wrong codes that suspend token use
    revocation_cooldown: int = 30 * 60  # seconds after revocation before registering again
    window: int = 1  # steps accepted either side of the token's learnt position
    resync_window: int = 10  # steps searched either side by resynchronisation
    typing_allowance: int = 30  # seconds a code may take from the token's display to the server
    max_drift_ppm: int = 100  # the fastest a token's clock drifts (docs/server.md, "How drift is learnt")
    max_validity_years: int = 5  # a token is valid this many calendar years from import at most


@dataclasses.dataclass(frozen=True)
class UserStatus:
    user_id: str
    customer_id: str
    role: str
    serial: str | None
    suspended: bool
    failures: int
    must_register: bool
    cooldown_until: int | None


@dataclasses.dataclass(frozen=True)
class ExpiringToken:
    serial: str
    expires_at: int
    user_ids: tuple


@dataclasses.dataclass(frozen=True)
class Member:
    """A user of an administrator's customer, as the portal's revocation screen lists them."""

    user_id: str
    role: str
    serial: str | None
    suspended: bool


def _years_later(unix_time, years):
    """The same calendar day and time ``years`` later (29 February becomes 28 February)."""
    start = datetime.datetime.fromtimestamp(unix_time, datetime.UTC)
    try:
        later = start.replace(year=start.year + years)
    except ValueError:
        later = start.replace(year=start.year + years, day=28)
    return int(later.timestamp())


def _check_id(value, what):
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_ID_CHARS or not value.isprintable():
        raise errors.BadRequest("%s must be 1 to %d printable characters" % (what, MAX_ID_CHARS))
    return value


class AuthService(Checks, Registration, Administration):
    """The validation service over one database.  Methods raise fobauth.errors.AuthError subclasses.
    Checking codes (rules 3, 4, 7, 8: fobauth.checks), registration (rules 1, 2: fobauth.registration)
    and administration (rules 5, 6: fobauth.administration) are mixed in; provisioning, reading and
    the portal's login are here."""

    def __init__(self, engine, seedbox, policy=Policy(), clock=time.time, hasher=None, fast_path=True):
        self.engine = engine
        self.policy = policy
        self._seedbox = seedbox
        self._clock = clock
        self._hasher = hasher or passwords.default_hasher()
        # Verification and resynchronisation run on the driver (fobauth.hotpath: in groups on PostgreSQL,
        # one at a time on SQLite) or through SQLAlchemy, one at a time; the statements and the decision
        # are the same (tests compare the two).
        fast = FastPath(engine) if fast_path else None
        self._groups = fast.group if fast and fast.in_one else None
        if self._groups is None:
            self._sessions = fast.session if fast else functools.partial(acceptance.general_session, engine)

    def _now(self):
        return int(self._clock())

    def _run(self, body):
        """Run ``body(conn, now)`` in one transaction; an AuthError it returns is raised after commit,
        so the audit record and counters written on the way to a refusal are kept."""
        now = self._now()
        outcome = once_more_if_dropped(lambda: self._transaction(body, now))
        if isinstance(outcome, errors.AuthError):
            raise outcome
        return outcome

    def _transaction(self, body, now):
        """``body(conn, now)`` in one transaction.  A connection the database dropped before COMMIT raises
        Dropped: nothing of the transaction was kept.  One lost during COMMIT is the database's error:
        the commit may have happened, and running it again could count a wrong code twice."""
        with self.engine.connect() as conn:
            transaction = conn.begin()
            try:
                outcome = body(conn, now)
            except DBAPIError as error:
                if error.connection_invalidated:
                    raise Dropped(error) from None
                raise
            transaction.commit()
        return outcome

    @staticmethod
    def _audit(conn, now, event, result, actor=None, subject=None, serial=None):
        conn.execute(audit.INSERT, audit.row(now, event, result, actor, subject, serial))

    # -- provisioning -------------------------------------------------------

    def import_tokens(self, seeds, actor=None):
        """Store the seeds (fobauth.pskcimport.TokenSeed) sealed; all or none.  Returns the serials."""

        def body(conn, now):
            serials = [seed.serial for seed in seeds]
            for start in range(0, len(serials), _SERIALS_PER_QUERY):
                chunk = serials[start : start + _SERIALS_PER_QUERY]
                taken = conn.execute(select(tokens.c.serial).where(tokens.c.serial.in_(chunk))).scalars().first()
                if taken is not None:
                    return errors.TokenExists("a token with serial %s exists" % taken)
            limit = _years_later(now, self.policy.max_validity_years)
            rows = [
                {
                    "serial": seed.serial,
                    "sealed_seed": self._seedbox.seal(seed.secret, seed.serial),
                    "algorithm": seed.algorithm,
                    "digits": seed.digits,
                    "period": seed.period,
                    "expires_at": limit if seed.expiry is None else min(seed.expiry, limit),
                    "last_step": -1,
                    "drift": max(-self.policy.resync_window, min(self.policy.resync_window, seed.drift)),
                    "imported_at": now,
                }
                for seed in seeds
            ]
            conn.execute(insert(tokens), rows)
            for serial in serials:
                self._audit(conn, now, "import", "ok", actor=actor, serial=serial)
            return serials

        if not seeds:
            raise errors.BadPskc("no tokens to import")
        try:
            return self._run(body)
        except IntegrityError:
            raise errors.TokenExists("a token in this document exists") from None

    def import_pskc(self, document, password=None, actor=None, psk=None):
        """Import every token of a PSKC document (bytes), opened by ``password`` or the pre-shared AES key
        ``psk`` (bytes) if it is protected; all or none.  Returns the serials."""
        return self.import_tokens(pskcimport.read(document, password, psk), actor)

    def create_user(self, user_id, customer_id, role, password, confirmation_password):
        _check_id(user_id, "user_id")
        _check_id(customer_id, "customer_id")
        if role not in ROLES:
            raise errors.BadRequest("role must be one of %s" % ", ".join(ROLES))
        for what, value in (("password", password), ("confirmation_password", confirmation_password)):
            if not isinstance(value, str) or not value or len(value) > MAX_PASSWORD_CHARS:
                raise errors.BadRequest("%s must be 1 to %d characters" % (what, MAX_PASSWORD_CHARS))
        row = {
            "user_id": user_id,
            "customer_id": customer_id,
            "role": role,
            "password_hash": self._hasher.hash(password),
            "confirmation_hash": self._hasher.hash(confirmation_password),
            "failures": 0,
            "suspended": False,
        }

        def body(conn, now):
            if conn.execute(select(users.c.id).where(users.c.user_id == user_id)).first() is not None:
                return errors.UserExists()
            conn.execute(insert(users).values(created_at=now, **row))
            self._audit(conn, now, "create_user", "ok", subject=user_id)
            return self._status(conn, user_id, now)

        try:
            return self._run(body)
        except IntegrityError:
            raise errors.UserExists() from None

    # -- reading ------------------------------------------------------------

    def _user(self, conn, user_id):
        row = conn.execute(acceptance.READ, {"user_id": user_id}).first()
        return errors.UnknownUser() if row is None else row

    @staticmethod
    def _status_of(row, now):
        cooling = row.cooldown_until is not None and row.cooldown_until > now
        return UserStatus(
            user_id=row.user_id,
            customer_id=row.customer_id,
            role=row.role,
            serial=row.serial,
            suspended=bool(row.suspended),
            failures=row.failures,
            must_register=row.token_id is None and not cooling,
            cooldown_until=row.cooldown_until if cooling else None,
        )

    def _status(self, conn, user_id, now):
        row = self._user(conn, user_id)
        return row if isinstance(row, errors.AuthError) else self._status_of(row, now)

    def status(self, user_id):
        """What the login flow needs: registered serial, suspension, failures, must_register, cooldown."""
        return self._run(lambda conn, now: self._status(conn, user_id, now))

    def suspended_users(self, customer_id):
        """The suspended users of one customer, for the unlock screen."""
        _check_id(customer_id, "customer_id")

        def body(conn, now):
            rows = conn.execute(
                select(*USER_COLUMNS, tokens.c.serial)
                .select_from(users.outerjoin(tokens, users.c.token_id == tokens.c.id))
                .where(users.c.customer_id == customer_id, users.c.suspended)
                .order_by(users.c.user_id)
            ).all()
            return [self._status_of(row, now) for row in rows]

        return self._run(body)

    def expiring(self, days):
        """Tokens expiring within ``days`` days from now (not yet expired), soonest first, with their users."""
        if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= MAX_EXPIRING_DAYS:
            raise errors.BadRequest("days must be a whole number from 0 to %d" % MAX_EXPIRING_DAYS)

        def body(conn, now):
            rows = conn.execute(
                select(tokens.c.serial, tokens.c.expires_at, users.c.user_id)
                .select_from(tokens.outerjoin(users, users.c.token_id == tokens.c.id))
                .where(tokens.c.expires_at > now, tokens.c.expires_at <= now + days * DAY)
                .order_by(tokens.c.expires_at, tokens.c.serial, users.c.user_id)
            ).all()
            found = {}
            for serial, expires_at, user_id in rows:
                found.setdefault((expires_at, serial), []).extend([user_id] if user_id else [])
            return [ExpiringToken(serial, at, tuple(ids)) for (at, serial), ids in found.items()]

        return self._run(body)

    # -- the portal's sign-in and member list -------------------------------------

    @functools.cached_property
    def _decoy(self):
        return self._hasher.hash("not a password anyone has")

    def check_login(self, user_id, password):
        """True when ``user_id`` exists and ``password`` is its login password; audited either way.  An
        unknown user id costs one argon2 check like a known one, so response times do not tell which exist."""
        stored = self._run(
            lambda conn, now: conn.execute(select(users.c.password_hash).where(users.c.user_id == user_id)).scalar()
        )
        matches = passwords.check_password(self._hasher, stored or self._decoy, password) and stored is not None
        known = user_id if stored is not None else None
        result = "ok" if matches else "bad_password"
        self._run(lambda conn, now: self._audit(conn, now, "portal_login", result, known, known))
        return matches

    def members(self, customer_id):
        """The users of one customer with their registered serial, by user id."""
        query = (
            select(users.c.user_id, users.c.role, tokens.c.serial, users.c.suspended)
            .select_from(users.outerjoin(tokens, users.c.token_id == tokens.c.id))
            .where(users.c.customer_id == customer_id)
            .order_by(users.c.user_id)
        )
        return self._run(
            lambda conn, now: [Member(r.user_id, r.role, r.serial, bool(r.suspended)) for r in conn.execute(query)]
        )
