"""The pytest fixtures of accord's end-to-end tests; the helpers they and the tests use are in
accordtest.py beside this file (stdlib only, shared with Tests/chaos and Benchmarks).

  private_journal  (session, autouse) skips every test outside scripts/with-journald.sh
  postgres_server  (session, autouse) with STATE=postgresql, the throwaway PostgreSQL server
                   every daemon keeps its state in (accordtest.start_postgres / stop_postgres)
  scratch          a directory under /tmp (accord-e2e-*), mode 0755, removed afterwards
  make_daemon      make_daemon(portfolio_text, **Daemon options) -> accordtest.Daemon, not started;
                   every daemon made is killed afterwards
"""
import os

import pytest

from accordtest import JOURNAL_PROBLEM, STATE, Daemon, scratch_directory, start_postgres, stop_postgres


@pytest.fixture(scope="session", autouse=True)
def private_journal():
    """Every test in Tests/e2e runs only beside the private journald of scripts/with-journald.sh,
    and is skipped with the reason otherwise. (A skip raised while importing a conftest would be
    an error, not a skip: hence a fixture.)"""
    if JOURNAL_PROBLEM:
        pytest.skip(JOURNAL_PROBLEM)


@pytest.fixture(scope="session", autouse=True)
def postgres_server(private_journal):
    """With STATE=postgresql, one PostgreSQL server for the whole session (about 1 s to start):
    initdb and pg_ctl into a scratch directory, Unix socket only; stopped and removed at the end."""
    if STATE != "postgresql":
        yield None
        return
    try:
        yield start_postgres()
    finally:
        stop_postgres()


@pytest.fixture
def scratch():
    """A scratch directory, mode 0755 so that users made by the tests reach the socket inside;
    removed with everything in it after the test."""
    with scratch_directory("accord-e2e-") as directory:
        yield directory


@pytest.fixture
def make_daemon(scratch):
    """make_daemon(portfolio_text, **Daemon options) -> Daemon (not started). The first lives in
    `scratch` itself, any further ones in scratch/d1, scratch/d2, ... All are killed afterwards."""
    daemons = []

    def make(portfolio_text=None, **kwargs):
        directory = scratch if not daemons else os.path.join(scratch, f"d{len(daemons)}")
        os.makedirs(directory, mode=0o755, exist_ok=True)
        daemon = Daemon(directory, portfolio_text, **kwargs)
        daemons.append(daemon)
        return daemon

    yield make
    for daemon in daemons:
        daemon.close()
