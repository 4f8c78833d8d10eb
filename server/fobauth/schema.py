"""The tables: tokens (sealed seeds and replay state), users (binding, failures, suspension), audit.

Times are whole Unix seconds (BIGINT) so that the clock is one injectable
number everywhere and SQLite and PostgreSQL compare them alike.
"""

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fobauth.settings import MAX_ID_CHARS


class Base(DeclarativeBase):
    pass


class Token(Base):
    """A hardware token: its sealed seed, OTP parameters, expiry and the last accepted time step."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[str] = mapped_column(String(12), unique=True)
    sealed_seed: Mapped[bytes] = mapped_column(LargeBinary)
    algorithm: Mapped[str] = mapped_column(String(8))
    digits: Mapped[int] = mapped_column(Integer)
    period: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    last_step: Mapped[int] = mapped_column(BigInteger, default=-1)
    drift: Mapped[int] = mapped_column(Integer, default=0)
    # The token's clock minus the server's, in seconds, known to lie in [drift_lo, drift_hi] at drift_at
    # (server time); NULL until a code teaches it (docs/server.md, "How drift is learnt").
    drift_lo: Mapped[int | None] = mapped_column(Integer)
    drift_hi: Mapped[int | None] = mapped_column(Integer)
    drift_at: Mapped[int | None] = mapped_column(BigInteger)
    # The drift before a resynchronisation that no code has confirmed yet, and the server's step at that
    # resync: the earlier window stays open, so a resync from someone else's old codes cannot lock the
    # user out (docs/server.md, "Resynchronisation cannot lock a user out").
    previous_drift: Mapped[int | None] = mapped_column(Integer)
    resync_step: Mapped[int | None] = mapped_column(BigInteger)
    imported_at: Mapped[int] = mapped_column(BigInteger)


class User(Base):
    """A banking user of one customer; ``token_id`` is the registered token (shared tokens have several users)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(String(MAX_ID_CHARS), unique=True)
    customer_id: Mapped[str] = mapped_column(String(MAX_ID_CHARS), index=True)
    role: Mapped[str] = mapped_column(String(8))
    password_hash: Mapped[str] = mapped_column(String(255))
    confirmation_hash: Mapped[str] = mapped_column(String(255))
    token_id: Mapped[int | None] = mapped_column(ForeignKey("tokens.id"), index=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    cooldown_until: Mapped[int | None] = mapped_column(BigInteger)
    skipped_at: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger)


class AuditEvent(Base):
    """One security event: who did what to whom, when, with which result.  Append-only (database triggers)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[int] = mapped_column(BigInteger, index=True)
    event: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(String(MAX_ID_CHARS))
    subject: Mapped[str | None] = mapped_column(String(MAX_ID_CHARS), index=True)
    serial: Mapped[str | None] = mapped_column(String(12))
    result: Mapped[str] = mapped_column(String(32))


tokens = Token.__table__
users = User.__table__
audit_events = AuditEvent.__table__
