"""The bank's hardware-token rules, as a library: registration, sharing, one-time use, lockout,
unlock, revocation, validity and clock drift.

Every decision that two requests could race on is a single conditional
UPDATE whose row count decides (a step is consumed only where
``last_step < step``; failures are counted with ``failures = failures + 1``),
so the rules hold across threads and across service processes sharing one
database.  Each security event is written to the audit table in the same
transaction as the change it records.  Time comes from ``clock`` so tests
can move it.
"""

import dataclasses
import datetime
import hmac
import time

from sqlalchemy import and_, bindparam, exists, func, insert, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from fobauth import entry, errors, passwords, pskcimport
from fobauth.hotpath import HotPath
from fobauth.schema import ID_LENGTH, audit_events, tokens, users
from fobauth.settings import ADMIN_ROLES, ROLES
from fobcore.otp import Otp

DAY = 86400


@dataclasses.dataclass(frozen=True)
class Policy:
    """The configurable numbers of the rules; the defaults are the bank's."""

    max_failures: int = 5  # consecutive wrong codes that suspend token use
    revocation_cooldown: int = 30 * 60  # seconds after revocation before registering again
    window: int = 1  # steps accepted either side of the token's learnt position
    resync_window: int = 10  # steps searched either side by resynchronisation
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


_TOKEN_COLUMNS = (
    tokens.c.serial,
    tokens.c.sealed_seed,
    tokens.c.algorithm,
    tokens.c.digits,
    tokens.c.period,
    tokens.c.expires_at,
    tokens.c.last_step,
    tokens.c.drift,
)
_USER_COLUMNS = (
    users.c.id,
    users.c.user_id,
    users.c.customer_id,
    users.c.role,
    users.c.token_id,
    users.c.failures,
    users.c.suspended,
    users.c.cooldown_until,
)


# The statements of the verification path, built once: SQLAlchemy then only binds parameters.
_AUDIT = insert(audit_events)
_USER_WITH_TOKEN = (
    select(*_USER_COLUMNS, *_TOKEN_COLUMNS)
    .select_from(users.outerjoin(tokens, users.c.token_id == tokens.c.id))
    .where(users.c.user_id == bindparam("user_id"))
)
_USER_STATE = select(users.c.suspended, users.c.token_id).where(users.c.id == bindparam("user_pk"))
_COUNT_FAILURE = (
    update(users)
    .where(users.c.id == bindparam("user_pk"), users.c.suspended.is_(False))
    .values(failures=users.c.failures + 1, suspended=users.c.failures + 1 >= bindparam("max_failures"))
    .returning(users.c.suspended)
)
_RESET_FAILURES = (
    update(users).where(users.c.id == bindparam("user_pk"), users.c.suspended.is_(False)).values(failures=0)
)


def _consume(user_holds_token):
    """Take step :step as the token's last used one if it is later than the last one and the user,
    not suspended, satisfies ``user_holds_token``: one conditional UPDATE, so that of concurrent
    requests for one step exactly one changes a row."""
    return (
        update(tokens)
        .where(
            tokens.c.id == bindparam("token_id"),
            tokens.c.last_step < bindparam("step"),
            exists().where(users.c.id == bindparam("user_id"), users.c.suspended.is_(False), user_holds_token),
        )
        .values(last_step=bindparam("step"), drift=bindparam("drift"))
    )


_CONSUME = _consume(users.c.token_id == bindparam("token_id"))
_CONSUME_UNBOUND = _consume(  # registration: the user holds no token and is past any cool-down
    and_(users.c.token_id.is_(None), or_(users.c.cooldown_until.is_(None), users.c.cooldown_until <= bindparam("now")))
)


def _years_later(unix_time, years):
    """The same calendar day and time ``years`` later (29 February becomes 28 February)."""
    start = datetime.datetime.fromtimestamp(unix_time, datetime.UTC)
    try:
        later = start.replace(year=start.year + years)
    except ValueError:
        later = start.replace(year=start.year + years, day=28)
    return int(later.timestamp())


def _check_id(value, what):
    if not isinstance(value, str) or not 1 <= len(value) <= ID_LENGTH or not value.isprintable():
        raise errors.BadRequest("%s must be 1 to %d printable characters" % (what, ID_LENGTH))
    return value


class AuthService:
    """The validation service over one database.  Methods raise fobauth.errors.AuthError subclasses."""

    def __init__(self, engine, seedbox, policy=Policy(), clock=time.time, hasher=None):
        self.engine = engine
        self.policy = policy
        self._seedbox = seedbox
        self._clock = clock
        self._hasher = hasher or passwords.default_hasher()
        self._hot = HotPath(engine, _USER_WITH_TOKEN, _CONSUME, _RESET_FAILURES)

    def _now(self):
        return int(self._clock())

    def _run(self, body):
        """Run ``body(conn, now)`` in one transaction; an AuthError it returns is raised after commit,
        so the audit record and counters written on the way to a refusal are kept."""
        now = self._now()
        try:
            with self.engine.begin() as conn:
                outcome = body(conn, now)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
            # The database dropped a pooled connection (a restart); the pool has been emptied of stale
            # connections.  One retry is safe: had the lost transaction committed after all, its
            # conditional updates make the retry a refusal (``replayed``), never a second acceptance.
            with self.engine.begin() as conn:
                outcome = body(conn, now)
        if isinstance(outcome, errors.AuthError):
            raise outcome
        return outcome

    @staticmethod
    def _audit(conn, now, event, result, actor=None, subject=None, serial=None):
        conn.execute(
            _AUDIT, {"at": now, "event": event, "result": result, "actor": actor, "subject": subject, "serial": serial}
        )

    # -- provisioning -------------------------------------------------------

    def import_tokens(self, seeds, actor=None):
        """Store the seeds (fobauth.pskcimport.TokenSeed) sealed; all or none.  Returns the serials."""

        def body(conn, now):
            serials = [seed.serial for seed in seeds]
            taken = conn.execute(select(tokens.c.serial).where(tokens.c.serial.in_(serials))).scalars().first()
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
            if not isinstance(value, str) or not value or len(value) > passwords.MAX_LENGTH:
                raise errors.BadRequest("%s must be 1 to %d characters" % (what, passwords.MAX_LENGTH))
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
        row = conn.execute(_USER_WITH_TOKEN, {"user_id": user_id}).first()
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
                select(*_USER_COLUMNS, tokens.c.serial)
                .select_from(users.outerjoin(tokens, users.c.token_id == tokens.c.id))
                .where(users.c.customer_id == customer_id, users.c.suspended)
                .order_by(users.c.user_id)
            ).all()
            return [self._status_of(row, now) for row in rows]

        return self._run(body)

    def expiring(self, days):
        """Tokens expiring within ``days`` days from now (not yet expired), soonest first, with their users."""
        if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= 3650:
            raise errors.BadRequest("days must be a whole number from 0 to 3650")

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

    # -- codes --------------------------------------------------------------

    def _matching_steps(self, token, codes, centre, radius):
        """Steps s in centre±radius from which the token shows ``codes`` (one, or consecutive ones)."""
        otp = Otp(self._seedbox.open(token.sealed_seed, token.serial), token.algorithm, token.digits, token.period)
        low = max(0, centre - radius)
        shown = [otp.hotp(step) for step in range(low, centre + radius + len(codes))]
        found = []
        for offset in range(len(shown) - len(codes) + 1):
            # every candidate is compared in constant time, whatever matched before
            if all([hmac.compare_digest(shown[offset + i], code) for i, code in enumerate(codes)]):
                found.append(low + offset)
        return found

    def _steps(self, token, codes, now_step, resync=False):
        """The steps at which ``token`` shows the last of ``codes`` (normalised), earliest first: around its
        learnt position, or around the current step in the wide window when resynchronising."""
        if resync:
            centre, radius = now_step, self.policy.resync_window
        else:
            centre, radius = now_step + token.drift, self.policy.window
        return [step + len(codes) - 1 for step in self._matching_steps(token, codes, centre, radius)]

    def _fresh_step(self, user, code, now):
        """(step, drift) when ``code`` is right and fresh for the user's token and nothing else stands in
        the way (no suspension, no expiry); otherwise None, and the general path decides."""
        if user.token_id is None or user.suspended or now >= user.expires_at:
            return None
        try:
            codes = [entry.code(code, user.digits)]
        except errors.BadCode:
            return None
        now_step = now // user.period
        fresh = [step for step in self._steps(user, codes, now_step) if step > user.last_step]
        return (fresh[0], fresh[0] - now_step) if fresh else None

    def _count_failure(self, conn, now, user, serial, event, actor):
        """One more consecutive wrong code, atomically; the code that reaches the limit suspends."""
        counted = conn.execute(_COUNT_FAILURE, {"user_pk": user.id, "max_failures": self.policy.max_failures}).first()
        if counted is None:
            self._audit(conn, now, event, "suspended", actor, user.user_id, serial)
            return errors.Suspended()
        self._audit(conn, now, event, "invalid_code", actor, user.user_id, serial)
        if counted.suspended:
            self._audit(conn, now, "lockout", "suspended", actor, user.user_id, serial)
            return errors.Suspended("too many wrong codes: token use is now suspended")
        return errors.InvalidCode()

    def _accept(self, conn, now, user, token, codes, event, actor=None, resync=False, unbound=False):
        """Accept ``codes`` (one, or two consecutive ones to resynchronise) from ``token`` for ``user``,
        once.  The step is consumed by one conditional UPDATE: only if it is later than the token's last
        used step and the user is not suspended and still holds the token (or, registering, none)."""
        actor = actor or user.user_id

        def refuse(refusal):
            self._audit(conn, now, event, refusal.code, actor, user.user_id, token.serial)
            return refusal

        if now >= token.expires_at:
            return refuse(errors.Expired())
        try:
            codes = [entry.code(code, token.digits) for code in codes]
        except errors.BadCode as error:
            return refuse(error)
        now_step = now // token.period
        steps = self._steps(token, codes, now_step, resync)
        if not steps:
            return self._count_failure(conn, now, user, token.serial, event, actor)
        fresh = [step for step in steps if step > token.last_step]
        step = fresh[0] if fresh else steps[-1]
        consumed = conn.execute(
            _CONSUME_UNBOUND if unbound else _CONSUME,
            {"token_id": token.token_id, "user_id": user.id, "step": step, "drift": step - now_step, "now": now},
        ).rowcount
        if not consumed:
            current = conn.execute(_USER_STATE, {"user_pk": user.id}).first()
            if current.suspended:
                return refuse(errors.Suspended())
            if current.token_id != user.token_id:
                return refuse(errors.NotRegistered() if user.token_id else errors.AlreadyRegistered())
            return refuse(errors.Replayed())
        if user.failures:
            conn.execute(_RESET_FAILURES, {"user_pk": user.id})
        if not unbound:  # registration audits the binding itself
            self._audit(conn, now, event, "ok", actor, user.user_id, token.serial)
        return None

    def _use_token(self, conn, now, user_id, codes, event, resync=False):
        user = self._user(conn, user_id)
        if isinstance(user, errors.AuthError):
            return user
        if user.token_id is None:
            self._audit(conn, now, event, "not_registered", user.user_id, user.user_id)
            return errors.NotRegistered()
        if user.suspended:
            self._audit(conn, now, event, "suspended", user.user_id, user.user_id, user.serial)
            return errors.Suspended()
        return self._accept(conn, now, user, user, codes, event, resync=resync)

    def verify(self, user_id, code):
        """Accept the user's current one-time password, once (rules 3, 4, 7, 8).  The common case, a right
        and fresh code, takes fobauth.hotpath; the general path decides and audits everything else."""
        now = self._now()
        if self._hot.accept(user_id, lambda user: self._fresh_step(user, code, now), now):
            return
        self._run(lambda conn, now: self._use_token(conn, now, user_id, [code], "verify"))

    def resync(self, user_id, first_code, second_code):
        """Re-learn a drifted token's clock from two consecutive codes found within the wide window."""
        self._run(lambda conn, now: self._use_token(conn, now, user_id, [first_code, second_code], "resync", True))

    # -- registration (rules 1, 2) -------------------------------------------

    def register(self, user_id, serial, code):
        """Bind the token ``serial`` to the user when ``code`` is right for it; sharing within a customer."""
        serial = entry.serial(serial)

        def body(conn, now):
            row = self._user(conn, user_id)
            if isinstance(row, errors.AuthError):
                return row
            subject = row.user_id
            refusal = None
            if row.token_id is not None:
                refusal = errors.AlreadyRegistered()
            elif row.suspended:
                refusal = errors.Suspended()
            elif row.cooldown_until is not None and row.cooldown_until > now:
                refusal = errors.RevokedCooldown(
                    "registration opens again %d seconds from now" % (row.cooldown_until - now)
                )
            if refusal:
                self._audit(conn, now, "register", refusal.code, subject, subject, serial)
                return refusal
            token = conn.execute(
                select(tokens.c.id.label("token_id"), *_TOKEN_COLUMNS).where(tokens.c.serial == serial)
            ).first()
            if token is None:
                self._audit(conn, now, "register", "unknown_token", subject, subject, serial)
                return errors.UnknownToken()
            other_customer = conn.execute(
                select(users.c.id).where(users.c.token_id == token.token_id, users.c.customer_id != row.customer_id)
            ).first()
            if other_customer is not None:
                self._audit(conn, now, "register", "forbidden", subject, subject, serial)
                return errors.Forbidden("this token belongs to another customer")
            refusal = self._accept(conn, now, row, token, [code], "register", unbound=True)
            if refusal:
                return refusal
            bound = conn.execute(
                update(users)
                .where(users.c.id == row.id, users.c.token_id.is_(None))
                .values(token_id=token.token_id, failures=0, skipped_at=None, cooldown_until=None)
            ).rowcount
            if not bound:
                self._audit(conn, now, "register", "already_registered", subject, subject, serial)
                return errors.AlreadyRegistered()
            shared = conn.execute(select(func.count()).where(users.c.token_id == token.token_id)).scalar_one() > 1
            self._audit(conn, now, "register", "shared" if shared else "ok", subject, subject, serial)
            return self._status(conn, user_id, now)

        return self._run(body)

    def skip_registration(self, user_id):
        """The user postponed registration; it is offered again at the next login."""

        def body(conn, now):
            row = self._user(conn, user_id)
            if isinstance(row, errors.AuthError):
                return row
            if row.token_id is not None:
                self._audit(conn, now, "skip", "already_registered", row.user_id, row.user_id)
                return errors.AlreadyRegistered()
            conn.execute(update(users).where(users.c.id == row.id).values(skipped_at=now))
            self._audit(conn, now, "skip", "ok", row.user_id, row.user_id)
            return self._status(conn, user_id, now)

        return self._run(body)

    # -- administration (rules 5, 6) ------------------------------------------

    def _authorise(self, admin_id, user_id, confirmation_password, event):
        """Check, outside any write transaction (argon2 is slow on purpose), that ``admin_id`` is a master
        or administrator of the user's customer and typed their confirmation password.  Returns the
        admin's and the user's rows, or raises after auditing the refusal."""

        def body(conn, now):
            admin = self._user(conn, admin_id)
            target = self._user(conn, user_id)
            for row in (admin, target):
                if isinstance(row, errors.AuthError):
                    return row
            hash_row = conn.execute(select(users.c.confirmation_hash).where(users.c.id == admin.id)).first()
            return admin, target, hash_row.confirmation_hash

        admin, target, confirmation_hash = self._run(body)
        allowed = (
            admin.role in ADMIN_ROLES
            and admin.customer_id == target.customer_id
            and admin.id != target.id
            and passwords.check_password(self._hasher, confirmation_hash, confirmation_password)
        )
        if not allowed:

            def refuse(conn, now):
                self._audit(conn, now, event, "forbidden", admin.user_id, target.user_id, target.serial)
                return errors.Forbidden()

            self._run(refuse)
        return admin, target

    def unlock(self, admin_id, user_id, confirmation_password):
        """Lift a suspension (rule 5); only a master or administrator of the same customer."""
        admin, target = self._authorise(admin_id, user_id, confirmation_password, "unlock")

        def body(conn, now):
            lifted = conn.execute(
                update(users).where(users.c.id == target.id, users.c.suspended).values(suspended=False, failures=0)
            ).rowcount
            result = "ok" if lifted else "not_suspended"
            self._audit(conn, now, "unlock", result, admin.user_id, target.user_id, target.serial)
            return None if lifted else errors.NotSuspended()

        self._run(body)

    def revoke(self, admin_id, user_id, confirmation_password, admin_code=None):
        """Unbind the user's token (rule 6).  An administrator who uses a token confirms with its code;
        the user may register again after the cool-down."""
        admin, target = self._authorise(admin_id, user_id, confirmation_password, "revoke")
        policy = self.policy

        def body(conn, now):
            if admin.token_id is not None:
                refusal = self._use_token(conn, now, admin.user_id, [admin_code], "revoke_confirm")
                if refusal:
                    self._audit(conn, now, "revoke", refusal.code, admin.user_id, target.user_id, target.serial)
                    return refusal
            revoked = conn.execute(
                update(users)
                .where(users.c.id == target.id, users.c.token_id.is_not(None))
                .values(token_id=None, failures=0, suspended=False, cooldown_until=now + policy.revocation_cooldown)
            ).rowcount
            result = "ok" if revoked else "not_registered"
            self._audit(conn, now, "revoke", result, admin.user_id, target.user_id, target.serial)
            return self._status(conn, user_id, now) if revoked else errors.NotRegistered()

        return self._run(body)
