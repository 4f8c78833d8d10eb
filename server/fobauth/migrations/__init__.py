"""Alembic migrations of the fobauth schema; applied by fobauth.database.upgrade at start."""
