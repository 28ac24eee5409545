"""The echo guard on a real pseudo-terminal, and on things that are not terminals."""

from __future__ import annotations

import io
import os
import termios

from herald.cli.echo import EchoGuard


def test_echo_off_and_restored_exactly() -> None:
    leader, follower = os.openpty()
    try:
        with os.fdopen(follower, "w", closefd=False) as stream:
            before = termios.tcgetattr(follower)
            assert before[3] & termios.ECHO
            guard = EchoGuard(stream)
            guard.off()
            guard.off()  # idempotent: the saved settings stay the original ones
            assert guard.active and not termios.tcgetattr(follower)[3] & termios.ECHO
            guard.restore()
            guard.restore()
            assert not guard.active and termios.tcgetattr(follower) == before
    finally:
        os.close(leader)
        os.close(follower)


def test_not_a_terminal_is_left_alone() -> None:
    guard = EchoGuard(io.StringIO())
    guard.off()
    assert not guard.active
    guard.restore()
