"""The stdout exporter: every published snapshot on standard output.

For debugging and for pipes (``wifimon run ... | jq``). ``format: json``
writes one JSON object per sample and line; ``format: text`` writes the
Prometheus exposition. Writing happens on a worker thread so a slow reader
never stalls the poll loop; when the reader falls behind, older snapshots
are skipped (only the newest matters) and counted in ``skipped``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import Callable, Mapping
from typing import TextIO

from wifimon.exporting import Exporter
from wifimon.snapshot import Snapshot
from wifimon_exporters.exposition import render

log = logging.getLogger("wifimon.exporters.stdout")


def json_lines(snapshot: Snapshot) -> str:
    """One line per sample, e.g.
    ``{"metric": "wifimon_ap_up", "labels": {...}, "value": 1, "timestamp": ...}``."""
    lines = []
    for sample in snapshot.samples():
        row = {
            "metric": sample.metric.name,
            "labels": dict(zip(sample.metric.labels, sample.labels, strict=True)),
            "value": sample.value,
            "timestamp": sample.timestamp,
        }
        lines.append(json.dumps(row, separators=(",", ":")))
    return "\n".join(lines) + "\n" if lines else ""


class StdoutExporter:
    def __init__(self, output_format: str, stream: TextIO | None = None) -> None:
        self.format = output_format
        self.stream = stream or sys.stdout
        self._pending: Snapshot | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.skipped = 0

    async def start(self) -> None:
        self._task = asyncio.create_task(self._writer())

    def publish(self, snapshot: Snapshot) -> None:
        if self._pending is not None:
            self.skipped += 1
        self._pending = snapshot
        self._wake.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._pending is not None:
            self._write(self._pending)

    async def _writer(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            snapshot, self._pending = self._pending, None
            if snapshot is not None:
                await asyncio.to_thread(self._write, snapshot)

    def _write(self, snapshot: Snapshot) -> None:
        text = json_lines(snapshot) if self.format == "json" else render(snapshot).decode()
        try:
            self.stream.write(text)
            self.stream.flush()
        except (BrokenPipeError, ValueError):
            log.warning("stdout is closed; snapshots are no longer written")


def create(settings: Mapping[str, object], current: Callable[[], Snapshot]) -> Exporter:
    """Build from the ``exporters.stdout`` config section, e.g. ``{"format": "json"}``."""
    del current  # pushed snapshots are enough; nothing here reads on demand
    return StdoutExporter(str(settings.get("format", "json")))
