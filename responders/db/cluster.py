"""An embedded PostgreSQL + PostGIS cluster living in a folder of the checkout.

Used by `make demo`, `make test` and the test suite when no `DATABASE_URL` is given. The
server listens on 127.0.0.1 on a free port and keeps its unix socket inside the data folder,
so several checkouts on one machine never collide. PostgreSQL refuses to run as root, so when
we are root every server command runs as the `postgres` system user, who owns the folder.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["Cluster", "ClusterError", "StopMode", "find_bindir", "postgis_available"]

_SERVER_USER = "postgres"
_SUPERUSER = "postgres"
# What makes a commit durable before the client hears of it. Clusters made by older
# checkouts were initialised with `synchronous_commit = off`, which lost 201-acknowledged
# incidents on a crash (commits of the last ~200 ms lived only in the WAL buffers).
_DURABLE = {"synchronous_commit": "on", "fsync": "on"}

StopMode = Literal["smart", "fast", "immediate"]


class ClusterError(RuntimeError):
    """The embedded cluster could not be prepared, started or stopped."""


def find_bindir() -> Path:
    """The newest PostgreSQL server binaries on this machine (Debian layout first)."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(str(Path(on_path).resolve().parent))
    for candidate in candidates:
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    raise ClusterError(
        "PostgreSQL server binaries not found; install them with: "
        "sudo apt-get install -y postgresql-15-postgis-3"
    )


def _version_key(path: str) -> int:
    with contextlib.suppress(ValueError, IndexError):
        return int(Path(path).parent.name)
    return 0


def postgis_available(bindir: Path) -> bool:
    """Whether the PostGIS extension is installed for this server's major version."""
    major = bindir.parent.name
    return any(
        Path(root, major, "extension", "postgis.control").exists()
        for root in ("/usr/share/postgresql", "/usr/local/share/postgresql")
    ) or bool(glob.glob(str(bindir.parent / "share" / "**" / "postgis.control"), recursive=True))


@dataclass
class Cluster:
    """One data folder; `ensure_running()` makes it exist and serve, `stop()` stops it."""

    root: Path
    bindir: Path | None = None

    def __post_init__(self) -> None:
        # pg_ctl resolves relative paths against the server's working directory.
        self.root = Path(self.root).resolve()

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    @property
    def port_file(self) -> Path:
        return self.root / "port"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{_SUPERUSER}@127.0.0.1:{self.port}/{database}"

    @property
    def port(self) -> int:
        try:
            return int(self.port_file.read_text().strip())
        except (OSError, ValueError) as exc:
            raise ClusterError(f"cluster in {self.root} has no port yet") from exc

    def ensure_running(self) -> bool:
        """Initialise and start the cluster if needed; True when this call started it."""
        self.bindir = self.bindir or find_bindir()
        if not postgis_available(self.bindir):
            raise ClusterError(
                "PostGIS is not installed; install it with: "
                "sudo apt-get install -y postgresql-15-postgis-3"
            )
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        if self.is_running():
            # A server started by an older checkout may still run with commits acknowledged
            # before they are on disk: make its configuration durable and have it reread it.
            if _make_durable(self.data_dir / "postgresql.conf"):
                self._ctl("reload")
            return False
        _make_durable(self.data_dir / "postgresql.conf")
        self._start()
        return True

    def is_running(self) -> bool:
        if not self.port_file.exists() or not (self.data_dir / "postmaster.pid").exists():
            return False
        return self._ctl("status", check=False).returncode == 0 and _port_open(self.port)

    def stop(self, mode: StopMode = "fast") -> None:
        """`fast` rolls back sessions and shuts down cleanly; `immediate` kills the server as a
        crash would (recovery from the WAL on the next start), for the fault tests."""
        if (self.data_dir / "postmaster.pid").exists():
            self._ctl("stop", "-m", mode, "-w", check=False)

    def _initdb(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self._give_to_server_user(self.root)
        self._run(
            [
                str(self._bin("initdb")),
                "-D",
                str(self.data_dir),
                "-U",
                _SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ]
        )
        # Durability is never traded for speed here, not even for a throwaway cluster: a 201
        # means the incident is on disk (`_DURABLE` is also forced on every start).
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write(
                "\nlisten_addresses = '127.0.0.1'\nmax_connections = 200\n"
                "shared_buffers = 256MB\nunix_socket_permissions = 0777\n"
            )

    def _start(self) -> None:
        # Keep the last port when it is free, so clients reconnect after a restart.
        port = self._previous_port()
        port = port if port and _port_free(port) else _free_port()
        self.port_file.write_text(str(port))
        # Command-line settings outrank postgresql.conf and ALTER SYSTEM: whatever a file says,
        # this server acknowledges a commit only once it is on disk.
        durable = " ".join(f"-c {name}={value}" for name, value in _DURABLE.items())
        opts = f"-p {port} -k {self.data_dir} {durable}"
        result = self._ctl(
            "start", "-w", "-t", "60", "-l", str(self.log_file), "-o", opts, check=False
        )
        if result.returncode != 0:
            raise ClusterError(f"PostgreSQL did not start:\n{self._log_tail()}")

    def _previous_port(self) -> int | None:
        try:
            return self.port
        except ClusterError:
            return None

    def _ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self._run([str(self._bin("pg_ctl")), "-D", str(self.data_dir), *args], check)

    def _bin(self, name: str) -> Path:
        self.bindir = self.bindir or find_bindir()
        return self.bindir / name

    def _run(self, argv: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        if os.geteuid() == 0:
            argv = ["runuser", "-u", _SERVER_USER, "--", *argv]
        result = subprocess.run(  # noqa: S603 - fixed binaries, no shell
            argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False
        )
        if check and result.returncode != 0:
            raise ClusterError(f"{' '.join(argv)} failed:\n{result.stderr or result.stdout}")
        return result

    def _give_to_server_user(self, path: Path) -> None:
        if os.geteuid() != 0:
            return
        try:
            user = pwd.getpwnam(_SERVER_USER)
        except KeyError as exc:
            raise ClusterError("running as root but there is no 'postgres' user") from exc
        os.chown(path, user.pw_uid, user.pw_gid)

    def _log_tail(self) -> str:
        try:
            return "\n".join(self.log_file.read_text().splitlines()[-20:])
        except OSError:
            return "(no server log)"


def _make_durable(conf: Path) -> bool:
    """Comment out lines of `conf` that weaken `_DURABLE`; True when the file changed."""
    lines = conf.read_text().splitlines(keepends=True)
    changed = False
    for i, line in enumerate(lines):
        name, sep, value = line.partition("=")
        name, value = name.strip(), value.split("#", 1)[0].strip().strip("'\"")
        if sep and name in _DURABLE and value.lower() != _DURABLE[name]:
            lines[i] = f"# {line.rstrip()}  # made durable: a 201 means on disk\n"
            changed = True
    if changed:
        conf.write_text("".join(lines))
    return changed


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        # As the server does: connections of the last run may linger in TIME_WAIT.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_open(port: int) -> bool:
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return True
        time.sleep(0.05)
    return False
