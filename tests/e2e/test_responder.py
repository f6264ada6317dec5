"""The lean responder answers as snmpsim does, request for request, over UDP.

Both agents serve the same data directory (the Cisco 5508 recording of
snmpsim-data and the small hand-made controller). The recording's lines are
put in OID order first: snmpsim answers a GETNEXT from the file's order (it
bisects the file), and 1,460 of the Cisco file's lines are out of order; a
real agent, and the responder, answer in OID order whatever the file's.
Its one OID recorded twice is kept once (snmpsim's GET and GETNEXT each
pick a different one of the two; the responder takes the last, as
``wifimon.snmp.snmprec`` reads files). A seeded generator sends
each of them the same 600 requests: GET, GETNEXT and GETBULK in SNMPv2c,
GET and GETNEXT in SNMPv1, for recorded OIDs, their prefixes, their
extensions, OIDs between and past the recording's end, several varbinds
at once, and GETBULKs of 0-3 non-repeaters and 0-40 repetitions. Every
decoded reply must be equal: error status and index, every OID, kind and
value. wifimon/simulator/responder.py says why the responder exists.
"""

from __future__ import annotations

import random
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.agents import decompressed_recording, free_udp_port, run_snmpsim
from tests.support.faulty_agents import AGENTS_DIR
from wifimon.simulator.responder import start_responder
from wifimon.snmp.pdus import NO_SUCH_NAME
from wifimon.snmp.snmprec import load_snmprec
from wifimon.snmp.types import Oid, SnmpValue, ValueKind, parse_oid
from wifimon.snmp.v2c_codec import (
    VERSION_1,
    VERSION_2C,
    Response,
    decode_response,
    encode_get,
    encode_getbulk,
    encode_getnext,
)

pytestmark = pytest.mark.e2e

SMALL = "small-controller"
REQUESTS = 600


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    cisco = decompressed_recording("network/appliance/cisco-controller")
    folder = tmp_path_factory.mktemp("responder-data")
    (folder / cisco.community).parent.mkdir(parents=True)
    recording = f"{cisco.community}.snmprec"
    text = (cisco.data_dir / recording).read_text(encoding="iso-8859-1")
    by_oid: dict[Oid, str] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            by_oid.setdefault(parse_oid(line.partition("|")[0]), line)
    lines = [by_oid[oid] for oid in sorted(by_oid)]
    (folder / recording).write_text("\n".join([*lines, ""]), encoding="iso-8859-1")
    shutil.copy(AGENTS_DIR / "healthy.snmprec", folder / f"{SMALL}.snmprec")
    return folder, cisco.community


@pytest.fixture(scope="module")
def agents(
    data_dir: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[int, int]]:
    """The ports of snmpsim and of the responder, serving the same folder."""
    folder, community = data_dir
    work = tmp_path_factory.mktemp("responder-snmpsim")
    with run_snmpsim(folder, work, community, cache_dir=work / "index") as (_, snmpsim_port):
        responder = start_responder(folder, free_udp_port(), community)
        try:
            yield snmpsim_port, responder.port
        finally:
            responder.stop()


def ask(port: int, request: bytes) -> Response | None:
    """The agent's reply, or None when it stays silent (for 3 s)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(3.0)
        sock.sendto(request, ("127.0.0.1", port))
        try:
            return decode_response(sock.recv(65535))
        except TimeoutError:
            return None


def probe_oids(oids: list[Oid], rng: random.Random) -> Oid:
    """A recorded OID, or one next to the recorded ones."""
    oid = rng.choice(oids)
    shape = rng.randrange(6)
    if shape == 0 and len(oid) > 3:
        return oid[: rng.randrange(2, len(oid))]  # a prefix: GETNEXT enters the subtree
    if shape == 1:
        return (*oid, rng.randrange(3))  # below an instance: nothing there
    if shape == 2:
        return (*oid[:-1], oid[-1] + rng.randrange(1, 4))  # a neighbour, maybe absent
    if shape == 3:
        return rng.choice([(1, 3, 6, 1, 9), (1, 3, 6, 1, 4, 1, 99999, 1), (2, 1)])  # past the end
    return oid


def requests(oids_by_community: dict[str, list[Oid]], seed: int) -> Iterator[bytes]:
    rng = random.Random(seed)
    for request_id in range(1, REQUESTS + 1):
        kind = rng.randrange(5)
        # SNMPv1 only to the small controller: snmpsim skips Counter64 values
        # for a v1 GETNEXT one full lookup at a time, which takes it minutes
        # across the Cisco recording's Counter64 columns (thousands of rows)
        community = SMALL if kind >= 3 else rng.choice(sorted(oids_by_community))
        oids = [probe_oids(oids_by_community[community], rng) for _ in range(rng.randint(1, 4))]
        if kind == 0:
            yield encode_get(VERSION_2C, community, request_id, oids)
        elif kind == 1:
            yield encode_getnext(VERSION_2C, community, request_id, oids)
        elif kind == 2:
            yield encode_getbulk(community, request_id, rng.randrange(4), rng.randrange(41), oids)
        elif kind == 3:
            yield encode_get(VERSION_1, community, request_id, oids)
        else:
            yield encode_getnext(VERSION_1, community, request_id, oids)


def test_the_responder_answers_every_request_as_snmpsim_does(
    data_dir: tuple[Path, str], agents: tuple[int, int]
) -> None:
    folder, cisco = data_dir
    snmpsim_port, responder_port = agents
    oids_by_community = {
        community: [varbind.oid for varbind in load_snmprec(folder / f"{community}.snmprec")]
        for community in (cisco, SMALL)
    }
    kinds: set[tuple[int, str]] = set()
    silent = 0
    for request in requests(oids_by_community, seed=7):
        expected = ask(snmpsim_port, request)
        got = ask(responder_port, request)
        assert got == expected, request.hex()
        if got is None:
            silent += 1
        else:
            kinds.update((got.error_status, v.value.kind.value) for v in got.varbinds)
    # the run met every case it claims to: values, a GET of what is not
    # recorded, the end of the MIB view, and SNMPv1's noSuchName
    assert {(0, "noSuchInstance"), (0, "endOfMibView")} <= kinds
    assert any(status == NO_SUCH_NAME for status, _ in kinds)
    assert len(kinds) > 8
    assert 0 < silent < REQUESTS / 20  # a GETBULK asking for nothing gets no reply


def walk(port: int, community: str, start: Oid, limit: int) -> list[tuple[Oid, SnmpValue]]:
    """GETBULK from ``start``, 60 rows a request, to the end of the MIB view
    or ``limit`` rows."""
    rows: list[tuple[Oid, SnmpValue]] = []
    oid = start
    for request_id in range(1, limit):
        reply = ask(port, encode_getbulk(community, request_id, 0, 60, [oid]))
        assert reply is not None
        ended = [v for v in reply.varbinds if v.value.kind is ValueKind.END_OF_MIB_VIEW]
        rows.extend((v.oid, v.value) for v in reply.varbinds if v not in ended)
        if ended or len(rows) >= limit:
            break
        oid = reply.varbinds[-1].oid
    return rows


def test_the_responder_walks_the_recording_as_snmpsim_does(
    data_dir: tuple[Path, str], agents: tuple[int, int]
) -> None:
    """GETBULK walks of the Cisco recording's first 30,000 lines, and of its
    last 3,000 up to the end of the MIB view (all of it takes snmpsim over
    a minute)."""
    folder, cisco = data_dir
    oids = [varbind.oid for varbind in load_snmprec(folder / f"{cisco}.snmprec")]
    for start, limit in (((1, 3), 30_000), (oids[-3_001], 5_000)):
        expected, got = (walk(port, cisco, start, limit) for port in agents)
        assert len(expected) >= 3_000
        assert got == expected
    assert got[-1][0] == oids[-1]
