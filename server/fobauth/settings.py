"""The service's settings: environment variable names and defaults.

Importable without the service's dependencies, so that `fob` (whose help
shows them) starts as fast without the server as with it.
"""

PREFIX = "/api/v1"
DEFAULT_URL = "sqlite:///fobauth.db"
DEFAULT_SEED_KEY_FILE = "fobauth-seed.key"
DEFAULT_API_KEY_FILE = "fobauth-api.key"
DEFAULT_USER_RATE = "10/60"  # code checks per user: a person types a few codes a minute
DEFAULT_SOURCE_RATE = "2000/1"  # requests per client address: one bank backend sends all its users' requests

DB_ENV = "FOB_DB_URL"
API_KEY_ENV = "FOB_API_KEY"
SEED_KEY_ENV = "FOB_SEED_KEY"
USER_RATE_ENV = "FOB_USER_RATE"
SOURCE_RATE_ENV = "FOB_SOURCE_RATE"

ROLES = ("master", "admin", "user")
ADMIN_ROLES = ("master", "admin")
