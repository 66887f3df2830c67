"""Panel building blocks shared by the dashboards: one data source, one `pbx` filter, RAG colours.

Titles are Malay first, then English, as on the built-in wallboard.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import bargauge, dashboard, heatmap, prometheus, stat, table
from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import timeseries as timeseries_builders
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models import prometheus as prometheus_models

DATASOURCE = model.DataSourceRef(type_val="prometheus", uid="${datasource}")
PBX = 'pbx=~"$pbx"'
PBX_ALL = ".*"  # what the `pbx` picker's All stands for in a query

# The charter's answer-rate target (monitor/core/charter.toml) and the amber band.
ANSWER_TARGET = 0.90
ANSWER_AMBER = 0.80
STATUS_TARGET = 1.0
STATUS_AMBER = 0.95
WAIT_AMBER_SECONDS = 10.0  # the charter's 10 s
WAIT_RED_SECONDS = 120.0  # charter max_wait_seconds: offer a message before this


FRONT_DESK = "Kaunter hadapan / Front desk"
NO_QUEUE = "—"


def per_department(expr: str) -> str:
    """Front-desk legs and messages carry no department (Prometheus drops an empty label):
    name them, so a table has a row for them."""
    return f'label_replace({expr}, "department", "{FRONT_DESK}", "department", "")'


def per_queue_and_department(expr: str) -> str:
    """Rows by queue and department: officers' series have no queue, the front desk's no
    department; both labels filled in."""
    return f'label_replace({per_department(expr)}, "queue", "{NO_QUEUE}", "queue", "")'


def variables() -> list[Builder[model.VariableModel]]:
    """A data-source picker and the `pbx` filter, so one dashboard serves several PBXs."""
    source = (dashboard.DatasourceVariable("datasource").label("Prometheus")
              .type("prometheus"))
    pbx = (dashboard.QueryVariable("pbx").label("PBX").datasource(DATASOURCE)
           .query("label_values(callsla_calls_offered_total, pbx)")
           .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
           .multi(True).include_all(True).all_value(PBX_ALL)
           .current(model.VariableOption(selected=True, text="All", value="$__all")))
    return [source, pbx]


def query(expr: str, *, legend: str = "", ref: str = "A", instant: bool = True,
          table_format: bool = False) -> prometheus.Dataquery:
    target = prometheus.Dataquery().expr(expr).ref_id(ref).legend_format(legend or "__auto")
    target = target.instant() if instant else target.range()
    if table_format:
        target = target.format(prometheus_models.PromQueryFormat.TABLE)
    return target


def ratio(numerator: str, denominator: str) -> str:
    """A share, with no figure (rather than +Inf or NaN) where nothing was offered."""
    return f"{numerator} / ({denominator} > 0)"


def steps(*bands: tuple[float | None, str]) -> dashboard.ThresholdsConfig:
    return dashboard.ThresholdsConfig().mode(model.ThresholdsMode.ABSOLUTE).steps(
        [model.Threshold(value=value, color=color) for value, color in bands])


def ratio_rag(amber: float, target: float) -> dashboard.ThresholdsConfig:
    """Red below amber, amber below the target, green at or above it."""
    return steps((None, "red"), (amber, "orange"), (target, "green"))


def big_stat(title: str, expr: str, *, unit: str, thresholds: dashboard.ThresholdsConfig,
             width: int, height: int, description: str = "", time_from: str = "",
             legend: str = "{{pbx}}") -> stat.Panel:
    panel = (stat.Panel().title(title).description(description).datasource(DATASOURCE)
             .with_target(query(expr, legend=legend)).unit(unit).thresholds(thresholds)
             .color_mode(common.BigValueColorMode.BACKGROUND)
             .graph_mode(common.BigValueGraphMode.NONE)
             .text_mode(common.BigValueTextMode.VALUE_AND_NAME)
             .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]))
             .no_value("—").span(width).height(height))
    if unit == "percentunit":
        panel = panel.decimals(0).min(0).max(1)
    elif unit == "none":
        panel = panel.decimals(0)
    return panel.time_from(time_from) if time_from else panel


def bars(title: str, expr: str, *, legend: str, width: int, height: int,
         thresholds: dashboard.ThresholdsConfig, unit: str = "none") -> bargauge.Panel:
    return (bargauge.Panel().title(title).datasource(DATASOURCE)
            .with_target(query(expr, legend=legend)).unit(unit).decimals(0)
            .thresholds(thresholds).orientation(common.VizOrientation.HORIZONTAL)
            .display_mode(common.BarGaugeDisplayMode.BASIC).no_value("0")
            .span(width).height(height))


def figures_table(title: str, targets: list[tuple[str, str]], *, width: int, height: int,
                  percent_columns: tuple[str, ...] = ()) -> table.Panel:
    """One row per label set; `targets` are (column name, expression) joined on their labels."""
    panel = table.Panel().title(title).datasource(DATASOURCE).span(width).height(height)
    for n, (_column, expr) in enumerate(targets):
        panel = panel.with_target(query(expr, ref=chr(ord("A") + n), table_format=True))
    renames = {f"Value #{chr(ord('A') + n)}": column for n, (column, _e) in enumerate(targets)}
    for column in percent_columns:
        panel = panel.override_by_name(column, [
            model.DynamicConfigValue(id_val="unit", value="percentunit"),
            model.DynamicConfigValue(id_val="decimals", value=0)])
    return (panel
            .with_transformation(model.DataTransformerConfig(id_val="merge", options={}))
            .with_transformation(model.DataTransformerConfig(
                id_val="organize",
                options={"excludeByName": {"Time": True}, "renameByName": renames})))


def trend(title: str, exprs: list[tuple[str, str]], *, unit: str, width: int,
          height: int) -> timeseries_builders.Panel:
    panel = (timeseries_builders.Panel().title(title).datasource(DATASOURCE).unit(unit)
             .span(width).height(height))
    for n, (legend, expr) in enumerate(exprs):
        panel = panel.with_target(query(expr, legend=legend, ref=chr(ord("A") + n),
                                        instant=False))
    return panel.min(0).max(1) if unit == "percentunit" else panel.min(0)


def wait_heatmap(title: str, expr: str, *, width: int, height: int) -> heatmap.Panel:
    target = (prometheus.Dataquery().expr(expr).ref_id("A").range().legend_format("{{le}}")
              .format(prometheus_models.PromQueryFormat.HEATMAP))
    return (heatmap.Panel().title(title).datasource(DATASOURCE).with_target(target)
            .calculate(False).span(width).height(height))
