"""Panel factories with wifimon's defaults: data source, unit, legend, options.

Each returns the SDK builder so a dashboard module can add overrides, links
or transformations before placing it with ``Layout.panel``. Every factory
takes a unit: Grafana's linter wants units on every panel, and an operator
reading "1.2 k" wants to know of what.
"""

from __future__ import annotations

from collections.abc import Sequence

from grafana_foundation_sdk.builders import bargauge, prometheus, stat, table, timeseries
from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.models import common as common_model
from grafana_foundation_sdk.models import dashboard as model

from dashboards.generator.common import DATASOURCE

Targets = Sequence[prometheus.Dataquery]


def _reduce_last() -> common_builders.ReduceDataOptions:
    # Stats show the latest value; "lastNotNull" skips a missed poll.
    return common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False)


def timeseries_panel(
    title: str, description: str, unit: str, targets: Targets, *, stacked: bool = False
) -> timeseries.Panel:
    """Lines over time with a table legend showing the last and max values."""
    legend = (
        common_builders.VizLegendOptions()
        .show_legend(True)
        .display_mode(common_model.LegendDisplayMode.TABLE)
        .placement(common_model.LegendPlacement.BOTTOM)
        .calcs(["lastNotNull", "max"])
    )
    tooltip = (
        common_builders.VizTooltipOptions()
        .mode(common_model.TooltipDisplayMode.MULTI)
        .sort(common_model.SortOrder.DESCENDING)
    )
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .targets(list(targets))
        .legend(legend)
        .tooltip(tooltip)
        .line_width(1)
        .fill_opacity(10)
        .show_points(common_model.VisibilityMode.NEVER)
    )
    if stacked:
        stacking = common_builders.StackingConfig().mode(common_model.StackingMode.NORMAL)
        panel = panel.stacking(stacking).fill_opacity(40)
    return panel


def stat_panel(title: str, description: str, unit: str, targets: Targets) -> stat.Panel:
    """One big number per series: the latest value."""
    return (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .targets(list(targets))
        .reduce_options(_reduce_last())
        .graph_mode(common_model.BigValueGraphMode.NONE)
        .color_mode(common_model.BigValueColorMode.VALUE)
        .text_mode(common_model.BigValueTextMode.AUTO)
    )


def bargauge_panel(title: str, description: str, unit: str, targets: Targets) -> bargauge.Panel:
    """One horizontal bar per series (e.g. per district), latest value."""
    return (
        bargauge.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .targets(list(targets))
        .reduce_options(_reduce_last())
        .orientation(common_model.VizOrientation.HORIZONTAL)
        .display_mode(common_model.BarGaugeDisplayMode.GRADIENT)
    )


def table_panel(
    title: str,
    description: str,
    unit: str,
    targets: Targets,
    transformations: Sequence[model.DataTransformerConfig] = (),
) -> table.Panel:
    """Rows from instant table queries, joined and tidied by ``transformations``."""
    return (
        table.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .targets(list(targets))
        .transformations(list(transformations))
        .show_header(True)
        .cell_height(common_model.TableCellHeight.SM)
        .filterable(True)
    )
