"""The service's settings: environment variable names, defaults, and every limit of the service.

Each limit is named once, here, and listed with its value in docs/server.md
("Limits", checked by tests/server/test_hostile_clients.py): the bounds on
what a client may send or make the service hold or compute.  The fob's own
value limits (serial length, digits, periods) are fobcore.limits.

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
PORTAL_USER_RATE = "10/60"  # the portal's login and confirmation password tries per user id
PORTAL_SOURCE_RATE = "100/60"  # and per client address (an office may share one)

DB_ENV = "FOB_DB_URL"
API_KEY_ENV = "FOB_API_KEY"
SEED_KEY_ENV = "FOB_SEED_KEY"
USER_RATE_ENV = "FOB_USER_RATE"
SOURCE_RATE_ENV = "FOB_SOURCE_RATE"
WORKER_COUNTS_ENV = "FOB_WORKER_COUNTS"  # the directory where `fob serve`'s workers publish their clients


ROLES = ("master", "admin", "user")
ADMIN_ROLES = ("master", "admin")

# -- what one request may carry: fobauth.limits enforces these before any parsing or authentication work
MAX_HEAD_BYTES = 16 * 1024  # request line and headers as they arrive on the connection (uvicorn)
MAX_URL_BYTES = 2048  # path and query string
MAX_HEADERS = 64
MAX_HEADER_BYTES = 8 * 1024  # names and values together
# Every body but a PSKC document: JSON, and the portal's forms (fobauth.portal.security, also when the
# portal is served on its own).  A form with the longest password is 12 bytes a character percent-encoded
# (MAX_PASSWORD_CHARS x 12 = 12 KiB) plus its few short fields.
MAX_BODY_BYTES = 16 * 1024
MAX_PSKC_BYTES = 1 << 20  # POST /api/v1/tokens/import: a document of a few thousand tokens
MAX_FORM_FIELDS = 16  # fields of a portal form (the largest has four)
MAX_IN_FLIGHT = 128  # requests one server process works on at once; more are told 503 and Retry-After
MAX_CONNECTIONS = 1024  # per server process (uvicorn's limit_concurrency, its last line of defence)
OVERLOAD_RETRY_AFTER = 1  # seconds, in 503 answers when the process is busy
OUTAGE_RETRY_AFTER = 5  # seconds, in 503 answers when the database cannot be reached

# -- the fields of a request
MAX_ID_CHARS = 64  # user and customer ids (their database columns are this wide)
MAX_PASSWORD_CHARS = 1024  # login, confirmation and PSKC passwords; longer ones are refused before hashing
MAX_TYPED_CHARS = 64  # serials and codes as typed; longer input is refused before it is normalised
MAX_EXPIRING_DAYS = 3650  # how far ahead `expiring` looks
MAX_GROUP_CHECKS = 16  # verifications one thread takes together into a group (fobauth.handoff)
MIN_SECRET_CHARS = 16  # the API key and each RADIUS client's shared secret

# -- work a request may cost
RATE_LIMIT_MAX_KEYS = 100_000  # buckets per rate limiter; past it, new keys wait (fobauth.ratelimit)
# A PSKC document chooses its PBKDF2 parameters.  Work = iterations x output blocks x (2 for the
# 128-byte-block hashes, 1 otherwise); the ceiling is twice OWASP's PBKDF2-HMAC-SHA1 figure: AES-256 keys
# from HMAC-SHA1 at 1,300,000 iterations still open, and no document costs more than about a second of
# one core (measured by benchmarks/interop.py).
MAX_PBKDF2_WORK = 2 * 1_300_000
MIN_SALT_BYTES = 8
MAX_SALT_BYTES = 64

# -- how long things may wait
SQLITE_BUSY_SECONDS = 30  # a request waiting for SQLite's write lock (and for its one pooled connection)
PORTAL_IDLE_SECONDS = 15 * 60  # a portal session without a request ends (the cookie is re-signed each time)
PORTAL_PENDING_SECONDS = 5 * 60  # between the portal's password step and its code (or registration) step

# -- RADIUS (fobauth.radius)
RADIUS_MAX_PACKET_BYTES = 4096  # RFC 2865 section 3: the largest packet a RADIUS server must accept
RADIUS_DUPLICATE_SECONDS = 30  # RFC 5080 section 2.2.2: retransmissions are answered from a cache this long
RADIUS_MAX_REMEMBERED = 65536  # answers in that cache
RADIUS_MAX_WAITING = 256  # requests queued per worker thread; beyond, a flood is dropped, not queued

TRUSTED_PROXIES_ENV = "FOB_TRUSTED_PROXIES"  # addresses whose X-Forwarded-For names the client
