"""The outbox: memory first, the spool when the server fails or lags, order always kept."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from wifimon_exporters.influx_outbox import Outbox
from wifimon_exporters.influx_spool import Spool
from wifimon_exporters.influx_stats import InfluxStats


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(directory: Path, batch: int = 5, queue: int = 20, clock: Clock | None = None) -> Outbox:
    spool = Spool(directory, 64 << 20)
    spool.open()
    return Outbox(
        spool,
        InfluxStats(),
        batch_size=batch,
        queue_size=queue,
        flush_interval=10.0,
        clock=clock or Clock(),
    )


def numbered(first: int, count: int) -> list[str]:
    return [f"m v={n}i {n}" for n in range(first, first + count)]


def body_lines(body: bytes) -> list[str]:
    return body.decode().split("\n")


def test_a_partial_batch_waits_for_the_flush_interval_a_full_one_goes_at_once(
    tmp_path: Path,
) -> None:
    clock = Clock()
    outbox = make(tmp_path, clock=clock)
    outbox.put(numbered(0, 3))
    assert outbox.take() is None
    assert outbox.due_in() == 10.0
    clock.now += 10.0
    flight = outbox.take()
    assert flight is not None
    assert body_lines(flight.body) == numbered(0, 3)
    outbox.complete(flight, accepted=True, now=5.0)
    outbox.put(numbered(3, 7))  # one full batch of 5 and 2 waiting
    flight = outbox.take()
    assert flight is not None
    assert body_lines(flight.body) == numbered(3, 5)
    assert outbox.stats.written == 3
    assert outbox.queued == 7  # in flight counts as queued until accepted


def test_a_failed_write_moves_it_and_everything_behind_it_to_the_spool(tmp_path: Path) -> None:
    outbox = make(tmp_path)
    outbox.put(numbered(0, 12))
    flight = outbox.take()
    assert flight is not None
    outbox.complete(flight, accepted=False, now=0.0)
    assert (outbox.queued, outbox.spool_points) == (0, 12)
    outbox.put(numbered(12, 3))  # while the spool holds points, new ones join it
    assert (outbox.queued, outbox.spool_points) == (0, 15)
    sent = []
    while (flight := outbox.take()) is not None:
        sent += body_lines(flight.body)
        outbox.complete(flight, accepted=True, now=0.0)
    assert sent == numbered(0, 15)
    assert (outbox.stats.spooled, outbox.stats.replayed, outbox.stats.written) == (12 + 3, 15, 15)


def test_a_full_memory_queue_spools_instead_of_growing(tmp_path: Path) -> None:
    outbox = make(tmp_path, queue=20)
    outbox.put(numbered(0, 15))
    outbox.put(numbered(15, 10))  # 25 > 20: a slow server
    assert (outbox.queued, outbox.spool_points) == (0, 25)


def test_a_batch_in_flight_during_a_spill_is_neither_lost_nor_sent_twice(tmp_path: Path) -> None:
    outbox = make(tmp_path, queue=20)
    outbox.put(numbered(0, 5))
    flight = outbox.take()
    assert flight is not None
    outbox.put(numbered(5, 30))  # overflow while the first batch flies: spill
    outbox.complete(flight, accepted=True, now=0.0)
    sent = body_lines(flight.body)
    while (next_flight := outbox.take()) is not None:
        sent += body_lines(next_flight.body)
        outbox.complete(next_flight, accepted=True, now=0.0)
    assert sent == numbered(0, 35)


def test_a_rejected_batch_leaves_memory_or_spool_and_the_next_one_follows(tmp_path: Path) -> None:
    outbox = make(tmp_path, queue=20)
    outbox.put(numbered(0, 5))
    flight = outbox.take()
    assert flight is not None
    outbox.put(numbered(5, 30))  # spilled while it flies: it has a place in the spool too
    outbox.reject(flight)
    assert outbox.stats.rejected == 5
    assert outbox.spool_points == 30
    replayed = outbox.take()
    assert replayed is not None
    assert body_lines(replayed.body) == numbered(5, 5)
    outbox.reject(replayed)  # from the spool: acknowledged there, not sent again
    sent = []
    while (next_flight := outbox.take()) is not None:
        sent += body_lines(next_flight.body)
        outbox.complete(next_flight, accepted=True, now=0.0)
    assert sent == numbered(10, 25)
    assert (outbox.stats.rejected, outbox.stats.written) == (10, 25)
    assert outbox.spool.empty


OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("put"), st.integers(1, 30)),
        st.tuples(st.sampled_from(["take", "accept", "refuse", "reject", "tick"]), st.just(0)),
    ),
    max_size=80,
)


@settings(max_examples=150, deadline=None)
@given(OPERATIONS)
def test_whatever_happens_every_line_is_accepted_or_rejected_once_and_in_order(
    operations: list[tuple[str, int]],
) -> None:
    clock = Clock()
    with tempfile.TemporaryDirectory() as directory:
        outbox = make(Path(directory), batch=7, queue=25, clock=clock)
        put = 0
        sent: list[str] = []
        parked: list[str] = []
        flight = None
        for operation, count in operations:
            if operation == "put":
                outbox.put(numbered(put, count))
                put += count
            elif operation == "take" and flight is None:
                flight = outbox.take()
            elif operation in ("accept", "refuse") and flight is not None:
                outbox.complete(flight, accepted=operation == "accept", now=0.0)
                if operation == "accept":
                    sent += body_lines(flight.body)
                flight = None
            elif operation == "reject" and flight is not None:
                outbox.reject(flight)
                parked += body_lines(flight.body)
                flight = None
            elif operation == "tick":
                clock.now += 4.0
        if flight is not None:
            outbox.complete(flight, accepted=True, now=0.0)
            sent += body_lines(flight.body)
        clock.now += 100.0
        while (flight := outbox.take()) is not None:
            outbox.complete(flight, accepted=True, now=0.0)
            sent += body_lines(flight.body)
        everything = numbered(0, put)
        assert sent == [line for line in everything if line not in parked]
        assert sorted(sent + parked, key=everything.index) == everything
        assert (outbox.stats.written, outbox.stats.rejected) == (len(sent), len(parked))
        assert outbox.spool.empty
        assert outbox.queued == 0
        outbox.spool.close()
