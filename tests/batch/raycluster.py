"""A real two-node Ray cluster on this machine for the Ray tests, started in the background.

Starting the two nodes takes several seconds of mostly waiting, so the batch tests' conftest
starts it when the session begins (only when Ray tests were collected) and the other batch
tests run meanwhile; the Ray tests wait for it, and their module stops it when they end.

The cluster lives in a temporary directory, in process sessions of its own, and is stopped by
ending exactly those sessions: other Ray processes on the machine are left alone.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

RAY = str(Path(sys.executable).with_name("ray"))
START_TIMEOUT = 180.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sessions_processes(sessions: set[int]) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getsid(int(entry.name)) in sessions:
                    found.append(int(entry.name))
            except (ProcessLookupError, PermissionError):
                continue
    return found


def stop_sessions(sessions: set[int], grace: float = 1.0) -> None:
    """End every process of these sessions: SIGTERM, then SIGKILL what is left.

    Ray's gcs_server and raylets outlive a SIGTERM by several seconds here, so a long grace
    only delays the SIGKILL that ends them anyway.
    """
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in sessions_processes(sessions):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and alive(sessions_processes(sessions)):
            time.sleep(0.1)


def alive(pids: list[int]) -> bool:
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":  # zombies are dead, waiting for their parent to reap them
            return True
    return False


class LocalCluster:
    """A head node and a second node, one CPU each, on 127.0.0.1, started by `start()` in a thread.

    Attributes:
        env: what the cluster and its drivers share: a token of their own (never ~/.ray's), no usage stats.
    """

    def __init__(self) -> None:
        self.env = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
        self._temp = tempfile.mkdtemp(prefix="hray-")  # short: Ray's socket paths have a length limit
        self._address = f"127.0.0.1:{free_port()}"
        self._sessions: set[int] = set()
        self._lock = threading.Lock()
        self._stopped = False
        self._failure: str | None = None
        self._thread = threading.Thread(target=self._start, name="ray-cluster-start", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def address(self) -> str:
        """The head's address, once both nodes are up.

        Raises:
            AssertionError: a node did not start (with its output).
        """
        if self._thread.ident is None:
            self.start()
        self._thread.join(START_TIMEOUT)
        assert not self._thread.is_alive(), f"the Ray cluster did not start within {START_TIMEOUT:.0f} s"
        assert self._failure is None, self._failure
        return self._address

    def stop(self) -> None:
        """Stop every process of the cluster (idempotent) and check that none is left."""
        with self._lock:
            self._stopped = True
        if self._thread.ident is not None:
            self._thread.join(START_TIMEOUT)
        stop_sessions(self._sessions)
        shutil.rmtree(self._temp, ignore_errors=True)
        assert not alive(sessions_processes(self._sessions)), "Ray processes were left behind"

    def _start(self) -> None:
        env = dict(os.environ, **self.env)
        port = self._address.rsplit(":", 1)[1]
        common = ["--node-ip-address", "127.0.0.1", "--num-cpus", "1", "--disable-usage-stats"]
        commands = [
            [RAY, "start", "--head", "--port", port, "--include-dashboard=false", "--temp-dir", self._temp, *common],
            [RAY, "start", "--address", self._address, *common],
        ]
        for command in commands:
            with self._lock:
                if self._stopped:
                    return
                starter = subprocess.Popen(command, env=env, start_new_session=True, stdout=subprocess.PIPE,
                                           stderr=subprocess.STDOUT, text=True)
                self._sessions.add(starter.pid)
            try:
                output, _ = starter.communicate(timeout=START_TIMEOUT)
            except subprocess.TimeoutExpired:
                starter.kill()
                output, _ = starter.communicate()
            if starter.returncode != 0:
                self._failure = f"{' '.join(command[:3])} exited {starter.returncode}: {output}"
                return
