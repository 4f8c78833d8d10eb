"""Checking codes: verification and resynchronisation (rules 3, 4, 7, 8), mixed into fobauth.service.AuthService.

A check reads the user with their token, decides with the one pure function
(fobauth.decision) and records the decision with one set of statements
(fobauth.acceptance).  On PostgreSQL's fast path checks come in groups
(``check_many``): one read for all of them, then every check's one write in
one transaction, a group commit (fobauth.hotpath); elsewhere they run one
after the other.  A group holds one check per token, so a token's checks
are decided one after the other as well; between groups the conditional
writes settle races as between concurrent requests (docs/server.md,
"Verifications in groups").
"""

import functools

from fobauth import acceptance, decision, errors
from fobauth.database import once_more_if_dropped
from fobauth.hotpath import NotKept

_REFUSALS = {error.code: error for error in errors.ALL}


def _refusal(results, outcome):
    """The error for the audit results fobauth.acceptance.record wrote (None: accepted)."""
    answer = results[0]
    if answer == decision.ACCEPTED:
        return None
    if answer == decision.WRONG and decision.SUSPENDED in results:
        return errors.Suspended("too many wrong codes: token use is now suspended")
    if answer == decision.BAD_CODE:
        return errors.BadCode(outcome.message)
    return _REFUSALS[answer]()


class Checks:
    """Verification and resynchronisation; needs ``policy``, ``_seedbox`` and ``_now`` from the service,
    and ``_groups`` (a group's session, on PostgreSQL's fast path) or else ``_sessions`` (one check's)."""

    def _decision(self, row, token, now, codes, resync):
        """What to do about ``codes`` for the user ``row`` and ``token`` (fobauth.decision)."""
        return decision.decide(
            token,
            lambda: self._seedbox.open(token.sealed_seed, token.serial),
            self.policy,
            now,
            codes,
            suspended=bool(row.suspended),
            resync=resync,
        )

    def _decide(self, run, row, token, now, codes, event, resync=False, unbound=False):
        """Decide about ``codes`` for the user ``row`` and ``token`` (fobauth.decision) and carry the decision
        out through ``run`` (fobauth.acceptance); the refusal, or None when accepted."""
        outcome = self._decision(row, token, now, codes, resync)
        results = acceptance.record(run, outcome, row, token, now, event, row.user_id, self.policy, unbound)
        return _refusal(results, outcome)

    def _check_once(self, user_id, codes, event, resync, now):
        with self._sessions() as run:
            row = run.read(user_id)
            if row is None:
                return errors.UnknownUser()
            token = row if row.token_id is not None else None
            return self._decide(run, row, token, now, codes, event, resync)

    def _group_once(self, checks, now):
        """``checks`` as one group (fobauth.hotpath): one read, each decided, every write in one
        transaction.  A check of a token already in the group waits for a later group, which reads
        after this one committed: checks of one token are decided one after the other, as they would be
        one by one.  Returns the outcomes (None where a check waits) and the indexes of those waiting."""
        outcomes, decided, writes, later, tokens = [None] * len(checks), [], [], [], set()
        with self._groups() as group:
            rows = group.read([user_id for user_id, *_ in checks])
            for index, (user_id, codes, event, resync) in enumerate(checks):
                row = rows.get(user_id)
                if row is None:
                    outcomes[index] = errors.UnknownUser()
                    continue
                if row.token_id in tokens:
                    later.append(index)
                    continue
                token = row if row.token_id is not None else None
                if token is not None:
                    tokens.add(row.token_id)
                try:
                    outcome = self._decision(row, token, now, codes, resync)
                except Exception as error:  # a seed the key does not open: this check's error alone
                    outcomes[index] = error
                    continue
                decided.append((index, outcome))
                writes.append(acceptance.in_one(outcome, row, token, now, event, user_id, self.policy))
            written = group.write(writes) if writes else []
        for (index, outcome), rows in zip(decided, written, strict=True):
            outcomes[index] = _refusal(acceptance.results(rows), outcome)
        return outcomes, later

    def _grouped(self, checks):
        """The outcome of each of ``checks``, taken as a group; if its transaction fails, each on its
        own, so that a database error is the check's that caused it.  Raises nothing."""
        now = self._now()
        try:
            outcomes, later = once_more_if_dropped(lambda: self._group_once(checks, now))
        except NotKept as failed:
            if len(checks) == 1:
                return [failed.error]
            return [self._grouped([check])[0] for check in checks]
        except Exception as error:  # the database's, after which the group's commit may have happened
            return errors.apiece(error, len(checks))
        if later:
            for index, outcome in zip(later, self._grouped([checks[i] for i in later]), strict=True):
                outcomes[index] = outcome
        return outcomes

    def check_many(self, checks):
        """Decide and record ``checks``, each (user_id, codes, event, resync), at one time: on the fast
        path on PostgreSQL as groups, one read and one transaction for each (a group commit,
        docs/server.md, "Verifications in groups"); otherwise one after the other.  For each check None
        (accepted) or the exception to raise for it, its own: its refusal (fobauth.errors) or the
        database's error."""
        if self._groups is not None:
            return self._grouped(checks)
        now, outcomes = self._now(), []
        for check in checks:
            try:
                outcomes.append(once_more_if_dropped(functools.partial(self._check_once, *check, now)))
            except Exception as error:  # the database's error, this check's alone
                outcomes.append(error)
        return outcomes

    def _check(self, user_id, codes, event, resync=False):
        refusal = self.check_many([(user_id, codes, event, resync)])[0]
        if refusal:
            raise refusal

    def verify(self, user_id, code):
        """Accept the user's current one-time password, once (rules 3, 4, 7, 8)."""
        self._check(user_id, [code], "verify")

    def resync(self, user_id, first_code, second_code):
        """Re-learn a drifted token's clock from two consecutive codes found within the wide window; the
        window of the position before stays open until a code confirms one of them (docs/server.md)."""
        self._check(user_id, [first_code, second_code], "resync", resync=True)
