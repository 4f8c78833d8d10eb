"""Rules 1 and 2 of the bank's guide: a user binds a token by typing its serial and its code; users of
one customer may share a token, another customer's may not; registration may be postponed.

Mixed into fobauth.service.AuthService, whose transaction runner (``_run``), reads (``_user``,
``_status``), decision (``_decide``) and audit writer (``_audit``) it uses.
"""

from sqlalchemy import func, select, update

from fobauth import acceptance, entry, errors
from fobauth.acceptance import TOKEN_COLUMNS
from fobauth.schema import tokens, users


class Registration:
    """AuthService's registration methods."""

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
            # The token row stays locked to the end of the transaction: a user of another customer
            # registering it at the same moment waits here, then sees this binding (PostgreSQL; SQLite's
            # BEGIN IMMEDIATE already runs one writer at a time).
            token = conn.execute(
                select(tokens.c.id.label("token_id"), *TOKEN_COLUMNS).where(tokens.c.serial == serial).with_for_update()
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
            refusal = self._decide(acceptance.SqlSession(conn), row, token, now, [code], "register", unbound=True)
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
