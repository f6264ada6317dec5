"""Serve recordings at an agent's pace, not snmpsim's: a lean v1/v2c responder.

snmpsim answers about 300 requests a second per process here (measured), so
the 7,682-AP SmartCell Gateway recording takes it 10-18 s to serve one poll
and a benchmark of wifimon's first complete poll would measure snmpsim.
This responder serves the same ``.snmprec`` files, under the same
communities (the file's path below the data directory, without the
suffix, as snmpsim names them), with wifimon's own codec: every recorded
varbind is encoded once, on first use, so an answer is a lookup by
bisection and a join of bytes. It answers GET, GETNEXT and GETBULK for
SNMPv1 and v2c; values with a variation module are served as
``wifimon.snmp.snmprec`` reads them (their fixed or initial value), so a
recording that lives by variation modules (the demo city) stays snmpsim's.
Equal to snmpsim, answer for answer: tests/e2e/test_responder.py.

Run ``python -m wifimon.simulator.responder --data-dir DIR --port 1161``;
``start_responder`` starts it as a child process and waits until it answers.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import signal
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import cast

from wifimon.simulator.snmpsim import AgentProcess, check_port_free, wait_ready
from wifimon.snmp.ber import (
    TAG_GET_BULK_REQUEST,
    TAG_GET_NEXT_REQUEST,
    TAG_GET_REQUEST,
    BerError,
)
from wifimon.snmp.pdus import NO_SUCH_NAME, TOO_BIG
from wifimon.snmp.snmprec import load_snmprec
from wifimon.snmp.types import Oid, SnmpValue, ValueKind, VarBind
from wifimon.snmp.v2c_codec import (
    VERSION_1,
    VERSION_2C,
    decode_message,
    encode_response,
    encode_varbind,
)
from wifimon.snmp.varbinds import null_varbind

# The varbinds of one reply stay under this many bytes (the largest UDP
# datagram is 65,507); a GETBULK is answered with fewer repetitions then, as
# RFC 3416 allows, a GET or GETNEXT with tooBig.
REPLY_VARBIND_BYTES = 65_000
# snmpsim's default --max-var-binds: the rows of a GETBULK reply are cut to
# fit, so a poll takes as many requests as it would from snmpsim.
MAX_BULK_VARBINDS = 64


class Recording:
    """One recording, its OIDs sorted for bisection."""

    def __init__(self, varbinds: Iterable[VarBind]) -> None:
        ordered = sorted(varbinds, key=lambda varbind: varbind.oid)
        self.oids: list[Oid] = [varbind.oid for varbind in ordered]
        self.varbinds = ordered
        self.position = {oid: index for index, oid in enumerate(self.oids)}
        # Encoded on first use: a big recording starts in seconds, and a
        # poll asks for most of it again every round.
        self._encoded: list[bytes | None] = [None] * len(ordered)

    def encoded(self, index: int) -> bytes:
        found = self._encoded[index]
        if found is None:
            found = self._encoded[index] = encode_varbind(self.varbinds[index])
        return found

    def is_counter64(self, index: int) -> bool:
        return self.varbinds[index].value.kind is ValueKind.COUNTER64

    def after(self, oid: Oid) -> int:
        """The index of the first recorded OID after ``oid`` (may be past the end)."""
        return bisect.bisect_right(self.oids, oid)


def load_recordings(data_dir: Path) -> dict[bytes, Recording]:
    """Every ``*.snmprec`` below ``data_dir`` by its community."""
    recordings = {}
    for path in sorted(data_dir.rglob("*.snmprec")):
        community = path.relative_to(data_dir).with_suffix("").as_posix()
        recordings[community.encode()] = Recording(load_snmprec(path))
    return recordings


def _exception(oid: Oid, kind: ValueKind) -> bytes:
    return encode_varbind(VarBind(oid, SnmpValue(kind, None)))


class Answer:
    """The varbinds of one reply, or the error that replaces them."""

    def __init__(self) -> None:
        self.varbinds: list[bytes] = []
        self.size = 0
        self.error_status = 0
        self.error_index = 0

    def add(self, varbind: bytes) -> bool:
        """Append ``varbind`` unless the reply would grow too big."""
        if self.size + len(varbind) > REPLY_VARBIND_BYTES:
            return False
        self.varbinds.append(varbind)
        self.size += len(varbind)
        return True

    def add_or_too_big(self, varbind: bytes) -> bool:
        """``add`` for a GET or GETNEXT, whose reply is whole or tooBig."""
        if self.add(varbind):
            return True
        self.fail(TOO_BIG, 0, [])
        return False

    def fail(self, status: int, index: int, requested: Sequence[bytes]) -> None:
        self.error_status, self.error_index = status, index
        self.varbinds = list(requested)


def answer_get(recording: Recording, version: int, oids: Sequence[Oid]) -> Answer:
    if version == VERSION_1:
        return _answer_get_v1(recording, oids)
    answer = Answer()
    for oid in oids:
        index = recording.position.get(oid)
        if index is not None:
            varbind = recording.encoded(index)
        else:  # snmpsim's answer for anything not recorded, object known or not
            varbind = _exception(oid, ValueKind.NO_SUCH_INSTANCE)
        if not answer.add_or_too_big(varbind):
            return answer
    return answer


def _answer_get_v1(recording: Recording, oids: Sequence[Oid]) -> Answer:
    """SNMPv1 has neither exception values nor Counter64 (RFC 2576 4.1.2):
    either is a noSuchName, at the last Counter64 if there is one, else at
    the first OID not recorded (the order of snmpsim's translation)."""
    positions = [recording.position.get(oid) for oid in oids]
    counters = [
        n for n, at in enumerate(positions, 1) if at is not None and recording.is_counter64(at)
    ]
    missing = [n for n, at in enumerate(positions, 1) if at is None]
    answer = Answer()
    if counters or missing:
        answer.fail(
            NO_SUCH_NAME,
            counters[-1] if counters else missing[0],
            [null_varbind(oid) for oid in oids],
        )
        return answer
    for at in positions:
        assert at is not None
        if not answer.add_or_too_big(recording.encoded(at)):
            return answer
    return answer


def answer_getnext(recording: Recording, version: int, oids: Sequence[Oid]) -> Answer:
    answer = Answer()
    for number, oid in enumerate(oids, 1):
        index = recording.after(oid)
        if version == VERSION_1:  # RFC 2576 4.2.1: SNMPv1 walks past Counter64 values
            while index < len(recording.oids) and recording.is_counter64(index):
                index += 1
        if index < len(recording.oids):
            varbind = recording.encoded(index)
        elif version == VERSION_1:
            answer.fail(NO_SUCH_NAME, number, [null_varbind(oid) for oid in oids])
            return answer
        else:
            varbind = _exception(oid, ValueKind.END_OF_MIB_VIEW)
        if not answer.add_or_too_big(varbind):
            return answer
    return answer


def answer_getbulk(
    recording: Recording, non_repeaters: int, repetitions: int, oids: Sequence[Oid]
) -> Answer | None:
    """RFC 3416 4.2.3 as snmpsim (pysnmp) does it: a GETNEXT for the first
    ``non_repeaters`` OIDs, then ``repetitions`` rows of successors of the
    others, at most MAX_BULK_VARBINDS of them (rows past the end of the MIB
    view are endOfMibView, not left out); a GETBULK that would yield no
    varbind at all gets no reply (None)."""
    split = min(max(non_repeaters, 0), len(oids))
    answer = answer_getnext(recording, VERSION_2C, oids[:split])
    if answer.error_status:
        return answer
    cursors = [recording.after(oid) for oid in oids[split:]]
    rows = min(max(repetitions, 0), MAX_BULK_VARBINDS // len(cursors)) if cursors else 0
    end = len(recording.oids)
    last = list(oids[split:])
    for _ in range(rows):
        for column, cursor in enumerate(cursors):
            if cursor < end:
                varbind = recording.encoded(cursor)
                last[column] = recording.oids[cursor]
            else:
                varbind = _exception(last[column], ValueKind.END_OF_MIB_VIEW)
            if not answer.add(varbind):
                return answer
            cursors[column] = cursor + 1
    return answer if answer.varbinds else None


def respond(recordings: dict[bytes, Recording], datagram: bytes) -> bytes | None:
    """The reply to ``datagram``, or None when it gets none (malformed, not
    a request, a community nothing is recorded under, GETBULK in SNMPv1)."""
    try:
        tag, request = decode_message(datagram)
    except BerError:
        return None
    recording = recordings.get(request.community)
    if recording is None:
        return None
    oids = [varbind.oid for varbind in request.varbinds]
    if tag == TAG_GET_REQUEST:
        answer = answer_get(recording, request.version, oids)
    elif tag == TAG_GET_NEXT_REQUEST:
        answer = answer_getnext(recording, request.version, oids)
    elif tag == TAG_GET_BULK_REQUEST and request.version == VERSION_2C:
        bulk = answer_getbulk(recording, request.error_status, request.error_index, oids)
        if bulk is None:
            return None
        answer = bulk
    else:
        return None
    return encode_response(
        request.version,
        request.community,
        request.request_id,
        answer.error_status,
        answer.error_index,
        answer.varbinds,
    )


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, recordings: dict[bytes, Recording]) -> None:
        self.recordings = recordings
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.DatagramTransport", transport)

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        reply = respond(self.recordings, data)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)


async def serve(recordings: dict[bytes, Recording], host: str, port: int) -> None:
    """Answer on ``host:port`` until SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    transport, _ = await loop.create_datagram_endpoint(
        lambda: _Protocol(recordings), local_addr=(host, port)
    )
    try:
        await stop.wait()
    finally:
        transport.close()


def start_responder(
    data_dir: Path, port: int, probe_community: str, *, host: str = "127.0.0.1"
) -> AgentProcess:
    """Start the responder serving ``data_dir`` as a child process and wait
    until it answers ``probe_community``; stopped again if it does not."""
    check_port_free(host, port)
    command = [sys.executable, "-m", "wifimon.simulator.responder"]
    process = subprocess.Popen(
        [*command, "--data-dir", str(data_dir), "--host", host, "--port", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    agent = AgentProcess(process, host, port)
    try:
        wait_ready(agent, probe_community, "the responder")
    except BaseException:
        agent.stop()
        raise
    return agent


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="folder of .snmprec files")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=1161, help="UDP port to listen on")
    args = parser.parse_args(argv)
    recordings = load_recordings(args.data_dir)
    if not recordings:
        print(f"{args.data_dir}: no .snmprec file to serve", file=sys.stderr)
        return 2
    asyncio.run(serve(recordings, args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
