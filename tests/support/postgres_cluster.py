"""`python -m tests.support.postgres_cluster -- <command>`: run a command with a throwaway PostgreSQL cluster.

`make test` runs pytest through this, so a newcomer's run covers the replica and store tests on PostgreSQL as CI
does: when DDBBOT_TEST_POSTGRES_URL is already set (CI starts its own server) or no PostgreSQL binaries are
installed, the command runs as it is and the PostgreSQL tests say plainly that they were skipped and why.
Otherwise a cluster is created in a temporary folder on a free port, the command runs with the URL set, and the
cluster is stopped and removed afterwards, whatever the command's outcome.

This is the one way the tests get a PostgreSQL: CI (.ci/run) only installs the server's package and runs `make test`
with DDBBOT_TEST_POSTGRES_REQUIRED=1, which turns "no cluster" from a note into a failure. As root (CI), initdb
and the server run as the `postgres` user, in a folder that user owns.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

POSTGRES_ENV = "DDBBOT_TEST_POSTGRES_URL"
REQUIRED_ENV = "DDBBOT_TEST_POSTGRES_REQUIRED"
HOW_TO = (
    "install PostgreSQL's server binaries (Debian: `apt-get install postgresql`) and `make test` starts a "
    f"throwaway cluster itself, or set {POSTGRES_ENV} to a server's URL"
)


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL server binaries (Debian's layout, or initdb on the PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _version(path: str) -> tuple[int, ...]:
    part = Path(path).parts[-3]
    return tuple(int(p) for p in part.split(".") if p.isdigit())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _pg(binaries: Path, tool: str, *args: str, check: bool = True) -> None:
    """Run a PostgreSQL tool; initdb and postgres refuse to run as root, so as root they run as `postgres`."""
    command = [str(binaries / tool), *args]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    subprocess.run(command, check=check, stdout=subprocess.DEVNULL, cwd="/")  # a cwd `postgres` can enter


@contextmanager
def throwaway_cluster(binaries: Path) -> Iterator[str]:
    """A running cluster with a `ddbbot_test` database; yields its URL."""
    folder = Path(tempfile.mkdtemp(prefix="ddbbot-test-pg-"))
    data = folder / "data"
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    port = _free_port()
    try:
        _pg(binaries, "initdb", f"--pgdata={data}", "--auth=trust", "--username=postgres")
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off"
        _pg(binaries, "pg_ctl", f"--pgdata={data}", f"--log={folder / 'server.log'}", "--wait", "-o", options, "start")
        try:
            _pg(binaries, "createdb", "--host=127.0.0.1", f"--port={port}", "--username=postgres", "ddbbot_test")
            yield f"postgresql://postgres@127.0.0.1:{port}/ddbbot_test"
        finally:
            _pg(binaries, "pg_ctl", f"--pgdata={data}", "--mode=fast", "stop", check=False)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: Sequence[str]) -> int:
    """Run `argv` (after `--`) with a PostgreSQL URL in the environment when one can be had."""
    command = list(argv[1:] if argv and argv[0] == "--" else argv)
    if not command:
        print("usage: python -m tests.support.postgres_cluster -- <command> [args...]", file=sys.stderr)
        return 2
    if os.environ.get(POSTGRES_ENV):
        return subprocess.call(command)
    binaries = postgres_bin()
    required = os.environ.get(REQUIRED_ENV) == "1"
    if binaries is None and required:
        print(f"{REQUIRED_ENV}=1 but no PostgreSQL server binaries here: {HOW_TO}.", file=sys.stderr)
        return 1
    if binaries is None:
        code = subprocess.call(command)
        print(f"\nThe PostgreSQL tests were skipped: no PostgreSQL server binaries here. To run them, {HOW_TO}.")
        return code
    try:
        with throwaway_cluster(binaries) as url:
            print(f"PostgreSQL tests run against a throwaway cluster ({binaries}).", flush=True)
            return subprocess.call(command, env={**os.environ, POSTGRES_ENV: url})
    except (OSError, subprocess.CalledProcessError, KeyError) as exc:
        if required:
            print(f"Could not start a throwaway PostgreSQL cluster ({exc}); {REQUIRED_ENV}=1.", file=sys.stderr)
            return 1
        print(f"Could not start a throwaway PostgreSQL cluster ({exc}); running without it.", file=sys.stderr)
        code = subprocess.call(command)
        print(f"\nThe PostgreSQL tests were skipped. To run them, {HOW_TO}.")
        return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
