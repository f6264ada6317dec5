"""Builders of wifimon's Grafana dashboards (grafana-foundation-sdk).

One module per dashboard (``city_overview``, ``ap_detail``,
``district_trends``, ``wifimon_health``), each with a ``build()``; shared
pieces in ``common``, ``panels`` and ``layout``. ``dashboards/generate.py``
writes them to ``dashboards/grafana/``; ``promql`` lets tests read back every
query the dashboards and rules hold.
"""
