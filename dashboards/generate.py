"""Write the Grafana dashboards of wifimon as JSON, from code.

Run after changing anything under ``dashboards/generator/``::

    .venv/bin/python dashboards/generate.py          # rewrite dashboards/grafana/*.json
    .venv/bin/python dashboards/generate.py --check  # exit 1 if a committed file is stale

The dashboards are built with Grafana's own grafana-foundation-sdk and
committed as JSON, so Grafana users need neither Python nor the SDK;
tests/unit/test_dashboards.py fails while the committed JSON is stale.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script: make the repository root importable for `dashboards.generator`.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as model

from dashboards.generator import (
    ap_detail,
    city_overview,
    district_trends,
    district_trends_influx,
    wifimon_health,
)

OUTPUT_DIR = Path(__file__).resolve().parent / "grafana"

# File name (under grafana/) -> the function that builds it.
DASHBOARDS: dict[str, Callable[[], model.Dashboard]] = {
    "city-overview.json": city_overview.build,
    "access-point-detail.json": ap_detail.build,
    "district-trends.json": district_trends.build,
    "district-trends-influxdb.json": district_trends_influx.build,
    "wifimon-health.json": wifimon_health.build,
}


def render(dashboard: model.Dashboard) -> str:
    """The dashboard as the committed text: 2-space JSON and a final newline."""
    return json.dumps(dashboard, cls=JSONEncoder, indent=2, ensure_ascii=False) + "\n"


def rendered() -> dict[str, str]:
    """Every dashboard's file name and JSON text, freshly generated."""
    return {name: render(build()) for name, build in DASHBOARDS.items()}


def stale_files(output_dir: Path = OUTPUT_DIR) -> list[str]:
    """Names of the dashboards whose file is missing or differs from the code."""
    return [
        name
        for name, text in rendered().items()
        if not (output_dir / name).is_file() or (output_dir / name).read_text() != text
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for name in stale:
            print(f"stale: dashboards/grafana/{name} (run dashboards/generate.py)")
        return 1 if stale else 0
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    for name, text in rendered().items():
        (OUTPUT_DIR / name).write_text(text)
        print(f"wrote dashboards/grafana/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
