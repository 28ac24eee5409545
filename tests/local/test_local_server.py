"""`LocalServer` lifecycle, with a stand-in process instead of llama-cpp-python."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from fakes import FAKE_SERVER, FakeServer

from herald.local import LocalExtraMissing, LocalModelError, LocalServer, LocalServerError
from herald.local.serve import PARENT_PID_ENV


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still "exists" until reaped; it is dead for our purposes.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_gone(pid: int, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_missing_model_file_is_a_clear_error(tmp_path: Path, extra_installed: None) -> None:
    server = LocalServer(tmp_path / "nope.gguf", log_path=tmp_path / "log")
    with pytest.raises(LocalModelError, match="no model file at .*nope.gguf"):
        server.start()
    assert server.pid is None  # nothing was spawned


def test_non_gguf_file_is_a_clear_error(tmp_path: Path, extra_installed: None) -> None:
    bogus = tmp_path / "model.gguf"
    bogus.write_text("<html>not a model</html>")
    with pytest.raises(LocalModelError, match="not a GGUF model file"):
        LocalServer(bogus, log_path=tmp_path / "log").start()


def test_missing_extra_names_the_install_line(gguf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *a: None)
    with pytest.raises(LocalExtraMissing, match=r"pip install 'herald\[local\]'"):
        LocalServer(gguf).start()


def test_start_waits_until_ready_and_stop_kills_the_whole_group(gguf: Path, tmp_path: Path, extra_installed: None) -> None:
    server = FakeServer(gguf, log_path=tmp_path / "server.log")
    with server:
        assert server.running
        assert server.base_url == f"http://127.0.0.1:{server.port}/v1"
        assert server.startup_seconds is not None
        pid = server.pid
        grandchild = int(server.child_pid_file.read_text())
        assert pid is not None and alive(pid) and alive(grandchild)
    assert not server.running
    assert not alive(pid)
    assert wait_gone(grandchild), "the server's own children must die with it"
    assert "fake server ready" in server.log_tail()  # output went to the log, not the terminal


def test_stop_is_idempotent(gguf: Path, tmp_path: Path, extra_installed: None) -> None:
    server = FakeServer(gguf, log_path=tmp_path / "server.log").start()
    server.stop()
    server.stop()
    LocalServer(gguf).stop()  # never started: a no-op


def test_a_server_that_dies_at_startup_reports_its_log(gguf: Path, tmp_path: Path, extra_installed: None) -> None:
    argv = [sys.executable, "-c", "import sys; print('model load failed: bad tensor'); sys.exit(3)"]
    server = FakeServer(gguf, log_path=tmp_path / "server.log", argv=argv)
    with pytest.raises(LocalServerError, match="exited with code 3") as info:
        server.start()
    assert "model load failed: bad tensor" in str(info.value)
    assert info.value.log_path == str(tmp_path / "server.log")


def test_a_server_that_never_answers_times_out_and_is_killed(gguf: Path, tmp_path: Path, extra_installed: None) -> None:
    argv = [sys.executable, "-c", "import time; print('loading', flush=True); time.sleep(60)"]
    server = FakeServer(gguf, log_path=tmp_path / "server.log", argv=argv, startup_timeout=0.5)
    with pytest.raises(LocalServerError, match="did not answer within 0.5s") as info:
        server.start()
    assert "loading" in info.value.log_tail
    assert server.pid is None and not server.running


def test_server_is_stopped_at_interpreter_exit(gguf: Path, tmp_path: Path) -> None:
    """A program that forgets stop() still leaves nothing behind (atexit)."""
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(FAKE_SERVER.parent)!r})
        import herald.local.server
        herald.local.server.local_extra_available = lambda: True
        from fakes import FakeServer
        server = FakeServer({str(gguf)!r}, log_path={str(tmp_path / "server.log")!r}).start()
        print(server.pid, flush=True)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert wait_gone(int(done.stdout.split()[0]))


def test_server_exits_when_its_parent_dies_without_cleanup(tmp_path: Path) -> None:
    """The watchdog in `herald.local.serve`: a SIGKILLed Herald runs no atexit, the server still goes."""
    server_code = "import os, sys, time; from herald.local.serve import watch_parent; watch_parent(int(sys.argv[1]), interval=0.05); time.sleep(60)"
    parent_code = textwrap.dedent(
        f"""
        import os, subprocess, sys
        child = subprocess.Popen(
            [sys.executable, "-c", {server_code!r}, str(os.getpid())],
            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        print(child.pid, flush=True)
        """
    )  # the parent exits at once, without touching its child
    done = subprocess.run([sys.executable, "-c", parent_code], capture_output=True, text=True, timeout=60, check=True)
    # Generous: the child first imports herald (about a second, far more on a loaded machine).
    assert wait_gone(int(done.stdout.split()[0]), seconds=30)


def test_command_runs_the_wrapper_with_interrupts_off(gguf: Path) -> None:
    command = LocalServer(gguf, port=1234, alias="m", chat_format="herald-gemma3").command()
    assert command[:3] == [sys.executable, "-m", "herald.local.serve"]
    assert command[command.index("--interrupt_requests") + 1] == "False"
    assert command[command.index("--chat_format") + 1] == "herald-gemma3"
    assert command[command.index("--host") + 1] == "127.0.0.1"
    assert PARENT_PID_ENV == "HERALD_LOCAL_PARENT_PID"


def test_default_log_is_per_port_in_the_data_dir_and_old_logs_are_pruned(
    gguf: Path, herald_home: Path, extra_installed: None
) -> None:
    logs = herald_home / "data" / "logs"
    logs.mkdir(parents=True)
    for age in range(8):
        old = logs / f"local-server-{1000 + age}.log"
        old.write_text("old")
        os.utime(old, (1_000_000 - age, 1_000_000 - age))
    server = FakeServer(gguf, log_path=None)
    server.child_pid_file = herald_home / "grandchild.pid"
    with server:
        assert server.log_path == logs / f"local-server-{server.port}.log"
    kept = sorted(p.name for p in logs.iterdir())
    assert len(kept) == 5 and server.log_path.name in kept
    assert "local-server-1000.log" in kept and "local-server-1007.log" not in kept  # newest old ones kept


def test_another_server_on_the_port_is_not_mistaken_for_ours(gguf: Path, tmp_path: Path, extra_installed: None) -> None:
    with FakeServer(gguf, log_path=tmp_path / "other.log", alias="someone-else") as other:
        argv = [sys.executable, "-c", "import time; time.sleep(60)"]  # ours never comes up
        ours = FakeServer(gguf, port=other.port, log_path=tmp_path / "ours.log", argv=argv, startup_timeout=1)
        with pytest.raises(LocalServerError, match="did not answer"):
            ours.start()


def test_every_response_names_the_herald_local_server() -> None:
    import asyncio

    from herald.llm.continuation import server_kind_from
    from herald.local.serve import ServerHeader

    sent: list[dict[str, object]] = []

    async def app(scope: object, receive: object, send: object) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b"ok"})  # type: ignore[operator]

    async def collect(message: dict[str, object]) -> None:
        sent.append(message)

    asyncio.run(ServerHeader(app)({"type": "http"}, None, collect))
    start = sent[0]
    headers = {k.decode(): v.decode() for k, v in start["headers"]}  # type: ignore[attr-defined]
    assert headers["server"] == "herald-local" and headers["content-type"] == "text/plain"
    assert sent[1] == {"type": "http.response.body", "body": b"ok"}
    assert server_kind_from(headers, None) == "herald-local"
