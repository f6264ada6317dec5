"""Read back every PromQL expression of the dashboards and rules, and what it names.

The checks in tests/ use this to prove that each query parses and returns
data on a real Prometheus (after ``substitute`` fills Grafana's variables)
and that every metric and label a query names exists in wifimon's
catalogue. ``names`` is a small PromQL tokenizer, not a parser: enough to
tell metric names from functions, keywords, label names and durations in
the expressions written here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

KEYWORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
     "offset", "bool", "inf", "nan", "Inf", "NaN"}
)  # fmt: skip
GROUPING = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
MATCH_OPERATORS = frozenset({"=", "!=", "=~", "!~"})
# Functions whose string arguments are label names: argument positions.
LABEL_ARGUMENTS = {"label_replace": (1, 3), "label_join": (1,)}

_TOKEN = re.compile(
    r"""(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
      |(?P<variable>\$\{?\w+\}?)
      |(?P<number>\d[\w.]*)
      |(?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
      |(?P<op>=~|!~|!=|==|>=|<=|[-+*/%^<>=(){}\[\],@])
      |(?P<space>\s+)""",
    re.VERBOSE,
)
_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")
_LABEL_VALUES = re.compile(r"^\s*label_values\((?P<selector>.+),\s*(?P<label>\w+)\s*\)\s*$")


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int
    end: int


def tokens(expr: str) -> list[Token]:
    """The tokens of ``expr``, without white space; raises on a character it cannot read."""
    found: list[Token] = []
    position = 0
    while position < len(expr):
        match = _TOKEN.match(expr, position)
        if match is None:
            raise ValueError(f"cannot read {expr[position : position + 20]!r} in {expr!r}")
        kind = match.lastgroup or ""
        if kind != "space":
            found.append(Token(kind, match.group(), match.start(), match.end()))
        position = match.end()
    return found


@dataclass
class Names:
    """What an expression names: metrics (with their selectors) and labels."""

    metrics: set[str] = field(default_factory=set)
    selectors: list[str] = field(default_factory=list)
    labels: set[str] = field(default_factory=set)
    created_labels: set[str] = field(default_factory=set)


def names(expr: str) -> Names:
    """Metric names, vector selectors and label names used in ``expr``.

    ``created_labels`` are the destination labels of ``label_replace`` /
    ``label_join``, which need not exist beforehand.
    """
    found = Names()
    items = tokens(expr)
    for index, token in enumerate(items):
        if token.kind != "ident" or token.text in KEYWORDS:
            continue
        following = items[index + 1].text if index + 1 < len(items) else ""
        if following == "(" or following in ("by", "without"):
            _function_labels(items, index, found)
            continue  # a function or an aggregation
        if _inside(items, index, "{", "}") or _inside(items, index, "[", "]"):
            continue  # a label name, or part of a subquery's range
        if _in_grouping(items, index):
            continue
        found.metrics.add(token.text)
        end = _selector_end(items, index)
        found.selectors.append(expr[token.start : end])
    _matcher_and_grouping_labels(items, found)
    return found


def _inside(items: list[Token], index: int, opening: str, closing: str) -> bool:
    depth = 0
    for token in reversed(items[:index]):
        if token.text == closing:
            depth += 1
        elif token.text == opening:
            if depth == 0:
                return True
            depth -= 1
    return False


def _in_grouping(items: list[Token], index: int) -> bool:
    """Inside ``by (...)``, ``on (...)`` and the like."""
    for back in range(index - 1, -1, -1):
        text = items[back].text
        if text == "(":
            return back > 0 and items[back - 1].text in GROUPING
        if text in (")", "{", "}", "[", "]"):
            return False
    return False


def _selector_end(items: list[Token], index: int) -> int:
    """End offset of the selector starting at ``items[index]`` (its ``{...}`` included)."""
    end = items[index].end
    if index + 1 < len(items) and items[index + 1].text == "{":
        for token in items[index + 1 :]:
            end = token.end
            if token.text == "}":
                break
    return end


def _matcher_and_grouping_labels(items: list[Token], found: Names) -> None:
    for index, token in enumerate(items):
        if token.kind != "ident":
            continue
        following = items[index + 1].text if index + 1 < len(items) else ""
        in_matcher = _inside(items, index, "{", "}") and following in MATCH_OPERATORS
        if in_matcher or _in_grouping(items, index):
            found.labels.add(token.text)


def _function_labels(items: list[Token], index: int, found: Names) -> None:
    """Label names passed as strings to label_replace/label_join."""
    positions = LABEL_ARGUMENTS.get(items[index].text)
    if positions is None:
        return
    arguments: list[list[Token]] = [[]]
    depth = 0
    for token in items[index + 1 :]:
        depth += {"(": 1, ")": -1}.get(token.text, 0)
        if depth == 0:
            break
        if depth == 1 and token.text == ",":
            arguments.append([])
        elif not (depth == 1 and token.text == "("):
            arguments[-1].append(token)
    for position, argument in enumerate(arguments):
        if position in positions or (items[index].text == "label_join" and position >= 3):
            label = argument[0].text.strip("\"'`") if argument else ""
            target = found.created_labels if position == 1 else found.labels
            target.add(label)


# --- Grafana variables -------------------------------------------------------------


def substitute(expr: str, values: Mapping[str, str]) -> str:
    """``expr`` with ``$name`` / ``${name}`` replaced from ``values`` (KeyError if unknown).

    ``$1`` stays: it is a label_replace back-reference, and Grafana leaves it
    alone too since no variable has that name.
    """

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return match.group() if name.isdigit() else values[name]

    return _VARIABLE.sub(value, expr)


def variables_used(text: str) -> set[str]:
    """Grafana variables ``text`` refers to, e.g. ``{"district", "__rate_interval"}``."""
    found = {match.group(1) or match.group(2) for match in _VARIABLE.finditer(text)}
    return {name for name in found if not name.isdigit()}


def label_values_query(query: str) -> str:
    """Grafana's ``label_values(selector, label)`` as the PromQL that lists the same values."""
    match = _LABEL_VALUES.match(query)
    if match is None:
        raise ValueError(f"not a label_values(selector, label) query: {query!r}")
    return f"group by ({match['label']}) ({match['selector']})"


# --- where the expressions are -----------------------------------------------------


@dataclass(frozen=True)
class PanelQuery:
    """One target of one panel, e.g. the city overview's map, query "A"."""

    dashboard: str
    panel_id: int
    title: str
    ref: str
    expr: str
    instant: bool
    min_interval: str
    time_from: str


def panel_queries(dashboard: Mapping[str, Any]) -> Iterator[PanelQuery]:
    for panel in dashboard.get("panels", []):
        for target in panel.get("targets", []):
            yield PanelQuery(
                dashboard=str(dashboard["uid"]),
                panel_id=int(panel["id"]),
                title=str(panel.get("title", "")),
                ref=str(target.get("refId", "")),
                expr=str(target["expr"]),
                instant=bool(target.get("instant")),
                min_interval=str(panel.get("interval", "")),
                time_from=str(panel.get("timeFrom", "")),
            )


@dataclass(frozen=True)
class Rule:
    """A recording or alerting rule: ``name`` is the record or alert name."""

    name: str
    expr: str
    alert: bool
    body: Mapping[str, Any]


def rules(path: Path) -> list[Rule]:
    document = yaml.safe_load(path.read_text())
    found = []
    for group in document["groups"]:
        for rule in group["rules"]:
            name = rule.get("alert") or rule["record"]
            found.append(Rule(name, rule["expr"], "alert" in rule, rule))
    return found
