"""What the portal needs beyond AuthService: the login password check and the users of a customer.

Both are built from fobauth's public pieces (the schema, the password
helpers, the audit table) so the validation service stays the one place
that decides about codes.  An unknown user id costs one argon2 check like a
known one, so response times do not tell which user ids exist.
"""

import dataclasses

from sqlalchemy import insert, select

from fobauth import passwords
from fobauth.schema import audit_events, tokens, users


@dataclasses.dataclass(frozen=True)
class Member:
    """A user of the administrator's customer, as the revocation screen lists them."""

    user_id: str
    role: str
    serial: str | None
    suspended: bool


class Accounts:
    def __init__(self, engine, clock, hasher=None):
        self._engine = engine
        self._clock = clock
        self._hasher = hasher or passwords.default_hasher()
        self._decoy = self._hasher.hash("not a password anyone has")

    def check_login(self, user_id, password):
        """True when ``user_id`` exists and ``password`` is its login password; audited either way."""
        with self._engine.connect() as conn:
            stored = conn.execute(select(users.c.password_hash).where(users.c.user_id == user_id)).scalar()
        matches = passwords.check_password(self._hasher, stored or self._decoy, password) and stored is not None
        with self._engine.begin() as conn:
            conn.execute(
                insert(audit_events).values(
                    at=int(self._clock()),
                    event="portal_login",
                    result="ok" if matches else "bad_password",
                    actor=user_id if stored is not None else None,
                    subject=user_id if stored is not None else None,
                )
            )
        return matches

    def members(self, customer_id):
        """The users of one customer with their registered serial, by user id."""
        query = (
            select(users.c.user_id, users.c.role, tokens.c.serial, users.c.suspended)
            .select_from(users.outerjoin(tokens, users.c.token_id == tokens.c.id))
            .where(users.c.customer_id == customer_id)
            .order_by(users.c.user_id)
        )
        with self._engine.connect() as conn:
            return [Member(row.user_id, row.role, row.serial, bool(row.suspended)) for row in conn.execute(query)]
