"""fobauth: the bank-side validation service — registration, one-time use, lockout, revocation, expiry."""
