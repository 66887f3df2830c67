"""The report's charts (matplotlib, no display): the same figures go into HTML/PDF and Excel."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from monitor.core.charter import Charter
from monitor.reports.indicators import ALL_DEPARTMENTS, CAUSES, QUARTER
from monitor.reports.wording import LABELS, department_name, month_name


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    svg: str
    png: bytes


def _render(name: str, title: str, figure: Figure) -> Chart:
    figure.tight_layout()
    svg, png = io.StringIO(), io.BytesIO()
    figure.savefig(svg, format="svg")
    figure.savefig(png, format="png", dpi=110)
    plt.close(figure)
    return Chart(name, title, svg.getvalue(), png.getvalue())


def _bars(table: pd.DataFrame, axes: Axes, **options: Any) -> bool:
    """Draw the bars, or say there was nothing to draw; False when the table is empty."""
    if table.empty or table.isna().all().all():
        axes.text(0.5, 0.5, "Tiada data / No data", ha="center", va="center",
                  transform=axes.transAxes)
        return False
    table.plot.bar(ax=axes, rot=0, **options)
    return True


def _pivot(indicators: pd.DataFrame, column: str) -> pd.DataFrame:
    monthly = indicators[(indicators["month"] != QUARTER)
                         & (indicators["department"] != ALL_DEPARTMENTS)]
    table = monthly.pivot(index="month", columns="department", values=column)
    table.index = [month_name(m).split(" / ")[1] for m in table.index]
    table.columns = [department_name(d).split(" / ")[-1] for d in table.columns]
    return table


def answer_rate_chart(indicators: pd.DataFrame, charter: Charter) -> Chart:
    title = f"{LABELS['answer_rate'][0]} / {LABELS['answer_rate'][1]}"
    figure, axes = plt.subplots(figsize=(9, 3.6))
    _bars(_pivot(indicators, "answer_rate") * 100, axes, width=0.8)
    axes.axhline(charter.answer_rate_target * 100, color="crimson", linestyle="--",
                 label=f"target {charter.answer_rate_target * 100:g}%")
    axes.set_ylim(0, 100)
    axes.set_ylabel("%")
    axes.legend(fontsize=7, ncols=7, loc="upper center", bbox_to_anchor=(0.5, -0.1))
    axes.set_title(title, fontsize=10)
    return _render("answer_rate", title, figure)


def missed_chart(indicators: pd.DataFrame) -> Chart:
    title = f"{LABELS['missed'][0]} / {LABELS['missed'][1]}"
    totals = indicators[(indicators["month"] != QUARTER)
                        & (indicators["department"] == ALL_DEPARTMENTS)].set_index("month")
    table = totals[[f"missed_{c.value}" for c in CAUSES]]
    table.index = [month_name(m).split(" / ")[1] for m in table.index]
    table.columns = [LABELS[c][1] for c in table.columns]
    figure, axes = plt.subplots(figsize=(9, 3.2))
    if _bars(table, axes, stacked=True):
        axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes.set_title(title, fontsize=10)
    return _render("missed", title, figure)


def status_and_callback_chart(indicators: pd.DataFrame) -> Chart:
    title = (f"{LABELS['status_rate'][0]}, {LABELS['callback_rate'][0].lower()} / "
             f"{LABELS['status_rate'][1]}, {LABELS['callback_rate'][1].lower()}")
    quarter = indicators[(indicators["month"] == QUARTER)
                         & (indicators["department"] != ALL_DEPARTMENTS)
                         & (indicators["transfers"] > 0)].set_index("department")
    table = quarter[["status_rate", "callback_rate"]] * 100
    table.columns = [LABELS["status_rate"][1], LABELS["callback_rate"][1]]
    figure, axes = plt.subplots(figsize=(9, 3.2))
    if _bars(table, axes):
        axes.legend(fontsize=7, ncols=2, loc="upper center", bbox_to_anchor=(0.5, -0.12))
    axes.set_xlabel("")
    axes.set_ylim(0, 100)
    axes.set_ylabel("%")
    axes.set_title(title, fontsize=10)
    return _render("status_callbacks", title, figure)


def report_charts(indicators: pd.DataFrame, charter: Charter) -> list[Chart]:
    return [answer_rate_chart(indicators, charter), missed_chart(indicators),
            status_and_callback_chart(indicators)]
