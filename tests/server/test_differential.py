"""The fast path and the general path are one decision and one set of statements: random stories
(hypothesis) told to two services on two databases, one with ``fast_path=True`` and one with
``fast_path=False``, give identical answers, database rows and audit trails.  Several stories are told
at once, so that on PostgreSQL the fast path takes their checks in groups (fobauth.service.check_many)
where the general path takes them one by one."""

import base64
import itertools
import secrets

import pyotp
import pytest
from argon2 import PasswordHasher
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from fobauth import errors
from fobauth.database import make_engine, upgrade
from fobauth.pskcimport import TokenSeed
from fobauth.schema import audit_events, tokens, users
from fobauth.seedbox import SeedBox
from fobauth.service import AuthService, Policy

PERIOD = 60
START = 1_800_000_000
SEED_KEY = bytes(range(32))
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
CONFIRMATION = "confirmation pass"
USERS = ("a", "b", "c", "nobody")  # a and b share the token, c has none, nobody does not exist

user = st.sampled_from(USERS[:2]) | st.sampled_from(USERS)  # mostly the token's users
near = st.integers(-1, 1) | st.integers(-12, 12)  # steps from now: mostly inside the window
action = st.one_of(
    st.tuples(st.just("verify"), user, near),  # the code the token shows that many steps away
    st.tuples(st.just("verify"), user, st.sampled_from(["wrong", "12345x", ""])),
    st.tuples(st.just("resync"), user, st.integers(-12, 11)),  # two consecutive codes from there
    st.tuples(st.just("advance"), st.integers(0, 4 * PERIOD)),
    st.tuples(st.just("advance"), st.integers(1, 40).map(lambda days: days * 86400)),  # the learnt offset widens
    st.tuples(st.just("unlock"), user),
)
stories = st.lists(action, min_size=1, max_size=15)
names = itertools.count()


class Pair:
    """The same story on two services: one per database, fast path on and off, one clock."""

    def __init__(self, urls):
        self.now = START
        self.services = []
        for url, fast in zip(urls, (True, False), strict=True):
            engine = make_engine(url)
            upgrade(engine)
            box = SeedBox(SEED_KEY)
            policy = Policy(max_failures=3)
            self.services.append(AuthService(engine, box, policy, lambda: self.now, FAST_HASHER, fast_path=fast))

    def each(self, call):
        """``call(service)`` on both; the answers (an error code or the result)."""
        answers = []
        for service in self.services:
            try:
                call(service)
                answers.append("ok")
            except errors.AuthError as error:
                answers.append(error.code)
        return answers

    def dispose(self):
        for service in self.services:
            service.engine.dispose()


def state(service, prefix, serial):
    with service.engine.connect() as conn:
        token_rows = conn.execute(
            select(
                *(tokens.c[name] for name in ("last_step", "drift", "drift_lo", "drift_hi", "drift_at")),
                tokens.c.previous_drift,
                tokens.c.resync_step,
            ).where(tokens.c.serial == serial)
        ).all()
        user_rows = conn.execute(
            select(users.c.user_id, users.c.token_id.is_(None), users.c.failures, users.c.suspended)
            .where(users.c.user_id.like(prefix + "%"))
            .order_by(users.c.user_id)
        ).all()
        trail = conn.execute(
            select(*(audit_events.c[name] for name in ("at", "event", "result", "actor", "subject", "serial")))
            .where((audit_events.c.serial == serial) | audit_events.c.subject.like(prefix + "%"))
            .order_by(audit_events.c.id)
        ).all()
    # Each token's trail in order, then each tokenless user's: a group may commit the checks of other
    # tokens and users between two checks of one token, as concurrent requests would.
    trail = sorted(trail, key=lambda row: (row.serial is None, row.serial or row.subject or ""))
    return [tuple(r) for r in token_rows], [tuple(r) for r in user_rows], [tuple(r) for r in trail]


class Story:
    """One token shared by users a and b, user c without one, a master, and the story's actions."""

    def __init__(self, pair, actions):
        self.pair, self.actions = pair, actions
        self.prefix, self.serial = "s%d_" % next(names), "%08d" % (30_000_000 + next(names))
        self.seed = secrets.token_bytes(20)
        self.totp = pyotp.TOTP(base64.b32encode(self.seed).decode(), interval=PERIOD)
        self.who = {name: self.prefix + name for name in USERS}

    def code(self, steps):
        return self.totp.at(self.pair.now + steps * PERIOD)

    def set_up(self):
        who = self.who
        for step in [
            lambda s: s.import_tokens([TokenSeed(self.serial, self.seed, "sha1", 6, PERIOD, None, 0)]),
            *(lambda s, n=n: s.create_user(who[n], "acme", "user", "pw", CONFIRMATION) for n in "abc"),
            lambda s: s.create_user(who["nobody"] + "master", "acme", "master", "pw", CONFIRMATION),
            lambda s: s.register(who["a"], self.serial, self.code(0)),
            lambda s: s.register(who["b"], self.serial, self.code(1)),
        ]:
            assert self.pair.each(step) == ["ok", "ok"]

    def check(self, kind, name, argument):
        """The check ``check_many`` takes for a verify or resync action."""
        if kind == "resync":
            return self.who[name], [self.code(argument), self.code(argument + 1)], "resync", True
        if isinstance(argument, int):
            argument = self.code(argument)
        elif argument == "wrong":
            shown = {self.code(s) for s in range(-13, 14)}
            argument = next(c for c in ("000000", "111111", "222222", "333333") if c not in shown)
        return self.who[name], [argument], "verify", False

    def unlock(self, name):
        master, target = self.who["nobody"] + "master", self.who[name]
        return self.pair.each(lambda s: s.unlock(master, target, CONFIRMATION))


def answer(outcome):
    return "ok" if outcome is None else outcome.code


def tell(pair, plots):
    """Tell the stories ``plots`` ((actions, n) each) at once: in each round the next n actions of
    every story, the advances of the clock first, then the unlocks, then every check of the round as
    one group for the fast path's ``check_many`` and one after the other for the general path;
    identical answers, rows and trails."""
    stories = [Story(pair, actions) for actions, _ in plots]
    for story in stories:
        story.set_up()
    pair.now += 2 * PERIOD  # the steps the registrations took are behind
    rounds = [[actions[i : i + n] for i in range(0, len(actions), n)] for actions, n in plots]
    answers = []
    for chunks in itertools.zip_longest(*rounds, fillvalue=[]):
        told = [(story, action) for story, chunk in zip(stories, chunks, strict=True) for action in chunk]
        pair.now += sum(action[1] for _, action in told if action[0] == "advance")
        answers += [story.unlock(action[1]) for story, action in told if action[0] == "unlock"]
        checks = [story.check(*action) for story, action in told if action[0] in ("verify", "resync")]
        fast, general = pair.services
        grouped = [answer(outcome) for outcome in fast.check_many(checks)]
        one_by_one = [answer(general.check_many([check])[0]) for check in checks]
        answers += [list(both) for both in zip(grouped, one_by_one, strict=True)]
    for fast, general in answers:
        assert fast == general, answers
    for story in stories:
        fast, general = (state(service, story.prefix, story.serial) for service in pair.services)
        assert fast == general


@pytest.fixture
def sqlite_pair(tmp_path):
    pair = Pair(["sqlite:///%s" % (tmp_path / name) for name in ("fast.db", "general.db")])
    yield pair
    pair.dispose()


@pytest.fixture
def postgres_pair(postgres_server):
    databases = ["d_" + secrets.token_hex(6) for _ in range(2)]
    admin = make_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in databases:
            conn.execute(text("CREATE DATABASE %s" % name))
    pair = Pair([postgres_server.rsplit("/", 1)[0] + "/" + name for name in databases])
    yield pair
    pair.dispose()
    with admin.connect() as conn:
        for name in databases:
            conn.execute(text("DROP DATABASE %s WITH (FORCE)" % name))
    admin.dispose()


RELAXED = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@settings(max_examples=40, **RELAXED)
@given(plots=st.lists(st.tuples(stories, st.integers(1, 3)), min_size=1, max_size=3))
def test_fast_and_general_paths_agree_on_sqlite(sqlite_pair, plots):
    tell(sqlite_pair, plots)


@settings(max_examples=40, **RELAXED)
@given(plots=st.lists(st.tuples(stories, st.integers(1, 3)), min_size=1, max_size=4))
def test_fast_and_general_paths_agree_on_postgresql(postgres_pair, plots):
    """On PostgreSQL the fast path's checks of a round are one group: one read, one transaction; a
    round may hold several checks of one token (one user's, or both sharing users')."""
    tell(postgres_pair, plots)
