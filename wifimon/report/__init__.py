"""Planner reports and open data from wifimon's history (issue 9).

``sources`` reads history (a Prometheus-compatible API or InfluxDB's hourly
rollups) into ``Point`` series, ``compute`` turns them into figures per
district and AP, ``render`` writes CSV and a self-contained HTML page, and
``opendata`` writes district-level usage fit for a city's open-data portal.
"""

from wifimon.report.opendata import run_opendata
from wifimon.report.render import run_report

__all__ = ["run_opendata", "run_report"]
