"""The service's settings: environment variable names and defaults.

Importable without the service's dependencies, so that `fob` (whose help
shows them) starts as fast without the server as with it.
"""

from pathlib import Path

import platformdirs

PREFIX = "/api/v1"
# A bare `fob serve` keeps its state in the user's data directory (XDG), never in the working directory.
DATA_DIR = Path(platformdirs.user_data_dir("fobkit", appauthor=False)) / "server"
DEFAULT_URL = "sqlite:///%s" % (DATA_DIR / "fobauth.db")
DEFAULT_SEED_KEY_FILE = str(DATA_DIR / "seed.key")
DEFAULT_API_KEY_FILE = str(DATA_DIR / "api.key")
DEFAULT_USER_RATE = "10/60"  # code checks per user: a person types a few codes a minute
DEFAULT_SOURCE_RATE = "2000/1"  # requests per client address: one bank backend sends all its users' requests

DB_ENV = "FOB_DB_URL"
API_KEY_ENV = "FOB_API_KEY"
SEED_KEY_ENV = "FOB_SEED_KEY"
USER_RATE_ENV = "FOB_USER_RATE"
SOURCE_RATE_ENV = "FOB_SOURCE_RATE"


ROLES = ("master", "admin", "user")
ADMIN_ROLES = ("master", "admin")

# What one request may carry; fobauth.limits enforces these before any parsing or authentication work.
MAX_HEAD_BYTES = 16 * 1024  # request line and headers as they arrive on the connection (uvicorn)
MAX_URL_BYTES = 2048  # path and query string
MAX_HEADERS = 64
MAX_HEADER_BYTES = 8 * 1024  # names and values together
MAX_BODY_BYTES = 16 * 1024  # JSON bodies and portal forms
MAX_PSKC_BYTES = 1 << 20  # POST /api/v1/tokens/import: a document of a few thousand tokens
MAX_IN_FLIGHT = 128  # requests one server process works on at once; more are told 503 and Retry-After
MAX_CONNECTIONS = 1024  # per server process (uvicorn's limit_concurrency, its last line of defence)
OVERLOAD_RETRY_AFTER = 1  # seconds, in 503 answers when the process is busy
OUTAGE_RETRY_AFTER = 5  # seconds, in 503 answers when the database cannot be reached

TRUSTED_PROXIES_ENV = "FOB_TRUSTED_PROXIES"  # addresses whose X-Forwarded-For names the client
