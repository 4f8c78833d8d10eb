"""The portal's flows on a real PostgreSQL server (started by the test, as tests/server does): the
same tests as on SQLite, collected here with ``database_url`` pointing at PostgreSQL."""

import pytest
from portal.test_screens import (  # noqa: F401 - collected again, on PostgreSQL
    test_a_suspended_user_is_told_to_contact_an_administrator,
    test_an_administrator_sees_and_acts_on_their_own_customer_only,
    test_login_attempts_are_audited_without_unknown_ids,
    test_registration_with_a_full_width_serial_then_login_with_the_code,
    test_revoked_user_waits_out_the_cool_down_then_registers_again,
    test_unlock_and_revoke_by_an_administrator,
)


@pytest.fixture
def database_url(postgres_url):
    return postgres_url
