"""Rules 5 and 6 of the bank's guide: a master or administrator of the user's customer lifts a
suspension or revokes a token, confirming with their own confirmation password (and, when they use a
token, its code).

Mixed into fobauth.service.AuthService, whose transaction runner (``_run``), reads (``_user``,
``_status``), decision (``_decide``), audit writer (``_audit``), password hasher and policy it uses.
"""

from sqlalchemy import select, update

from fobauth import acceptance, errors, passwords
from fobauth.schema import users
from fobauth.settings import ADMIN_ROLES


class Administration:
    """AuthService's unlock and revocation methods."""

    def _authorise(self, admin_id, user_id, confirmation_password, event):
        """Check, outside any write transaction (argon2 is slow on purpose), that ``admin_id`` is a master
        or administrator of the user's customer, not suspended themselves (the guide: a suspended master
        asks another one), and typed their confirmation password.  Returns the
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
            and not admin.suspended
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
                row = self._user(conn, admin.user_id)
                token = row if row.token_id is not None else None
                refusal = self._decide(acceptance.SqlSession(conn), row, token, now, [admin_code], "revoke_confirm")
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
