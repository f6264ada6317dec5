"""Killing processes at awkward moments: SIGKILL the instant a file appears.

``KillOnCreate`` watches a directory with Linux inotify (through ctypes, no
extra package) and sends SIGKILL to a PID as soon as a file whose name
matches appears there, e.g. the temp file of a state save. The kill lands
microseconds after the file is created, while the writer is still writing
or fsyncing it, so the test can check what a crash mid-write leaves.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import signal
import struct
import time
from collections.abc import Callable
from pathlib import Path

_IN_CREATE = 0x00000100
_IN_MOVED_TO = 0x00000080
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, name length


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


class KillOnCreate:
    """``arm(pid)`` then ``wait(timeout)``: True when ``pid`` was killed because
    a file matching ``wanted`` was created in ``directory`` in time."""

    def __init__(self, directory: Path, wanted: Callable[[str], bool]) -> None:
        self.libc = _libc()
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        watch = self.libc.inotify_add_watch(self.fd, bytes(directory), _IN_CREATE | _IN_MOVED_TO)
        if watch < 0:
            os.close(self.fd)
            raise OSError(ctypes.get_errno(), f"cannot watch {directory}")
        self.wanted = wanted
        self.seen: str | None = None

    def kill_when_created(self, pid: int, timeout: float, skip: int = 0) -> bool:
        """Block until a wanted file appears (then SIGKILL ``pid``) or ``timeout``;
        ``skip`` lets that many wanted files come and go first."""
        deadline = time.monotonic() + timeout
        poller = select.poll()
        poller.register(self.fd, select.POLLIN)
        while (remaining := deadline - time.monotonic()) > 0:
            if not poller.poll(min(remaining, 0.5) * 1000):
                continue
            name = self._first_wanted()
            if name is not None and skip > 0:
                skip -= 1
            elif name is not None:
                os.kill(pid, signal.SIGKILL)
                self.seen = name
                return True
        return False

    def _first_wanted(self) -> str | None:
        try:
            data = os.read(self.fd, 64 * 1024)
        except BlockingIOError:
            return None
        offset = 0
        while offset + _EVENT.size <= len(data):
            _, _, _, length = _EVENT.unpack_from(data, offset)
            raw = data[offset + _EVENT.size : offset + _EVENT.size + length]
            offset += _EVENT.size + length
            name = raw.rstrip(b"\0").decode(errors="replace")
            if self.wanted(name):
                return name
        return None

    def close(self) -> None:
        os.close(self.fd)

    def __enter__(self) -> KillOnCreate:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
