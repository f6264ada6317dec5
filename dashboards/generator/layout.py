"""Explicit panel ids and grid positions, handed out row by row.

Grafana's grid is 24 columns wide. ``Layout`` places panels left to right
and wraps to a new line when a panel would not fit; a ``row`` header takes a
whole line. Every id and ``gridPos`` is written into the JSON, so a panel
keeps its id (and its links and shared URLs) when others are added.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.models import dashboard as model

GRID_WIDTH = 24

Placeable = Builder[model.Panel] | dash.Row
P = TypeVar("P", bound=Builder[model.Panel])


@dataclass
class Layout:
    """Ids start at 1 in placement order; ``items`` is what the dashboard gets."""

    items: list[Placeable] = field(default_factory=list)
    _next_id: int = 1
    _x: int = 0
    _y: int = 0
    _line_height: int = 0

    def panel(self, panel: P, width: int, height: int) -> P:
        """Place ``panel`` (a panel builder with ``id`` and ``grid_pos``)."""
        if not 0 < width <= GRID_WIDTH:
            raise ValueError(f"panel width {width} is outside 1..{GRID_WIDTH}")
        if self._x + width > GRID_WIDTH:
            self._new_line()
        position = model.GridPos(h=height, w=width, x=self._x, y=self._y)
        # Every SDK panel builder has id() and grid_pos(); their common base
        # class (Builder) declares only build().
        panel.id(self._take_id()).grid_pos(position)  # type: ignore[attr-defined]
        self.items.append(panel)
        self._x += width
        self._line_height = max(self._line_height, height)
        return panel

    def row(self, title: str) -> None:
        """A row header across the grid; the panels placed next sit under it."""
        self._new_line()
        header = (
            dash.Row(title)
            .id(self._take_id())
            .grid_pos(model.GridPos(h=1, w=GRID_WIDTH, x=0, y=self._y))
        )
        self.items.append(header)
        self._y += 1

    def _take_id(self) -> int:
        taken = self._next_id
        self._next_id += 1
        return taken

    def _new_line(self) -> None:
        self._y += self._line_height
        self._x, self._line_height = 0, 0
