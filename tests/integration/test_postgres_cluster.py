"""`python -m tests.support.postgres_cluster -- <command>`, the one way tests and CI get a PostgreSQL: as whoever runs
it (root in CI: the server then runs as `postgres`), the command gets a working URL and the cluster is gone after."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.support.postgres_cluster import POSTGRES_ENV, REQUIRED_ENV, postgres_bin

ROOT = Path(__file__).resolve().parents[2]
CONNECT = (
    "import os, psycopg; url = os.environ['{env}']; print(url, flush=True); "
    "c = psycopg.connect(url); print(c.execute('show max_connections').fetchone()[0], "
    "c.execute('show fsync').fetchone()[0]); c.close()"
)


@pytest.mark.skipif(postgres_bin() is None, reason="no PostgreSQL server binaries here")
def test_a_required_throwaway_cluster_serves_the_command_and_is_removed_after() -> None:
    env = {k: v for k, v in os.environ.items() if k != POSTGRES_ENV} | {REQUIRED_ENV: "1"}
    command = [sys.executable, "-c", CONNECT.format(env=POSTGRES_ENV)]
    result = subprocess.run(
        [sys.executable, "-m", "tests.support.postgres_cluster", "--", *command],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    url, settings = result.stdout.splitlines()[-2:]
    assert settings == "400 off"  # room for parallel workers and two bot processes; a throwaway needs no fsync
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=5)
