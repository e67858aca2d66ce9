"""The dashboard's words: headlines, rule and spread sentences (text only, computed from reports)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ..config import ALL
from ..crossover import CROSSED_IN_HISTORY, CROSSES_WITHIN_HORIZON, NOT_WITHIN_HORIZON, Crossover
from ..quarters import text as quarter_text
from ..sensitivity import SpreadAttribution
from . import theme

#: What a table cell or a sentence shows where there is no value (never "None", "NaT" or "nan").
EMPTY = "—"


def threshold_text(threshold: float) -> str:
    """``2.0`` -> ``2×``, ``1.25`` -> ``1.25×``: the crossover rule's ratio for labels."""
    return f"{threshold:g}×"


def spread_text(a: SpreadAttribution) -> str:
    """One sentence on the width of the P10-P90 crossover band and which uncertainty drives it."""
    more = " or more" if a.censored else ""
    if a.dominant == "none":
        return f"The P10-P90 crossover band is {a.spread_total:.1f} quarters{more} wide."
    return (
        f"The P10-P90 crossover band is {a.spread_total:.1f} quarters{more} wide; "
        f"{'model' if a.dominant == 'model' else 'assumption'} uncertainty dominates it "
        f"(model alone: {a.spread_model:.1f} quarters, your assumption ranges alone: {a.spread_assumptions:.1f})."
    )


def target_label(sector: str, absent: Sequence[str] = ()) -> str:
    """A 'Set drivers for' choice: 'All sectors', a sector's label, or one the run lacks, said so."""
    if sector == ALL:
        return "All sectors"
    return theme.sector_label(sector) + (" (not in this run)" if sector in absent else "")


def range_text(p10: pd.Timestamp | None, p90: pd.Timestamp | None) -> str:
    """'80% range 2025 Q4 to 2026 Q4', or '80% range within 2026 Q4' when both ends share a quarter."""
    low, high = quarter_text(p10), quarter_text(p90)
    return f"80% range within {low}" if low == high else f"80% range {low} to {high}"


def headline(c: Crossover, subject: str = "Inference") -> str:
    """One sentence on when ``subject`` spend overtakes training, with the 80% range when it lies ahead.

    At a threshold other than 1 the sentence says when it reaches that multiple of training instead.
    """
    if c.threshold == 1.0:
        did, does, cross, not_ = "overtook training", "overtakes training", "cross", "does not overtake training"
    else:
        t = threshold_text(c.threshold)
        did, does, cross, not_ = (
            f"reached {t} training",
            f"reaches {t} training",
            "get there",
            f"does not reach {t} training",
        )
    if c.state == CROSSED_IN_HISTORY:
        if c.p10 is not None and quarter_text(c.p10) != quarter_text(c.p90):
            # Modelled history carries the model's uncertainty: say so, with its range (open-ended when more
            # than a tenth of the paths have not crossed by the horizon's end: no P90).
            return (
                f"{subject} {did} in the modelled history, most likely in {quarter_text(c.crossed_at)} "
                f"({range_text(c.p10, c.p90)})."
            )
        return f"{subject} {did} in {quarter_text(c.crossed_at)}."
    if c.state == CROSSES_WITHIN_HORIZON:
        return f"{subject} {does} in {quarter_text(c.p50)} ({range_text(c.p10, c.p90)})."
    last = quarter_text(c.quarter_ends[-1]) if len(c.quarter_ends) else "the horizon"
    if c.state == NOT_WITHIN_HORIZON:
        return f"{subject} {does} after {last} in most paths: {c.prob_within_horizon:.0%} of paths {cross} by then."
    return f"{subject} {not_} by {last} in any sample path."


def fallback_words(labels: Sequence[str]) -> str:
    """The sentence naming sectors whose forecast is the engine's naive fallback, not a fitted model ('' if none).

    With fewer than six quarters (or when every model failed) the engine draws a random walk with no trend
    whose spread comes from a few step changes, or under three quarters is assumed (10% a quarter), so
    such a sector's crossover odds say what that implies, not what its data show.
    """
    if not labels:
        return ""
    return (
        " Forecast as a random walk, not by a fitted model (under six quarters of history, or no model fitted: "
        "no trend, and a spread from those few quarters or, under three, an assumed 10% a quarter), so their "
        f"crossover odds show that assumption, not evidence: {', '.join(labels)}; see Model quality."
    )


def moment_text(ts: object) -> str:
    """A stored moment (UTC) to the minute, as every page writes one: ``2026-12-02 06:30``; ``—`` for none."""
    return EMPTY if ts is None or pd.isna(ts) else f"{pd.Timestamp(ts):%Y-%m-%d %H:%M}"


def rule_text(threshold: float) -> str:
    """The crossover rule in words: ``inference overtakes training`` or ``inference reaches 2× training``."""
    return (
        "inference overtakes training"
        if threshold == 1.0
        else f"inference reaches {threshold_text(threshold)} training"
    )


def distribution_text(c: Crossover) -> str:
    """What P10, P50 and P90 of the crossing dates mean, in one plain sentence; how many paths cross at all.

    At a high threshold or under a scenario that holds inference back, some paths (or none) cross within
    the horizon: the sentence must not say that every path crosses.
    """
    n = len(c.times)
    if c.prob_within_horizon <= 0:
        return (
            f"None of the {n:,} simulated paths crosses within the horizon, so their crossing dates have no P10, "
            "P50 or P90."
        )
    within = "" if c.prob_within_horizon >= 1 else f" ({c.prob_within_horizon:.0%} of them within the horizon)"
    return (
        f"Each of the {n:,} simulated paths crosses at its own date{within}: by P10 a tenth of them have crossed, "
        "by P50 half and by P90 nine in ten. The 80% range is P10 to P90."
    )


def curves_text(c: Crossover, p50_curves: object) -> str | None:
    """A sentence when the P50 of crossing dates and the crossing of the P50 curves fall in different quarters.

    Each path crosses at its own time; the median of those times and the time the median curves meet
    need not agree (a few steep paths can cross early while the typical path stays below), and a
    headline must not contradict the chart's curves without saying why.
    """
    why = (
        "each path crosses at its own time, so the median date and the median curves answer different "
        "questions. The headline gives the first; the chart draws the second."
    )
    curves = quarter_text(p50_curves) if p50_curves is not None and p50_curves == p50_curves else None
    if c.p50 is None:
        return (
            None
            if curves is None
            else (
                f"The P50 curves cross in {curves}, yet fewer than half the paths have crossed by the "
                f"horizon's end: {why}"
            )
        )
    dates = quarter_text(c.p50)
    if curves == dates:
        return None
    curve_part = f"the P50 curves cross in {curves}" if curves else "the P50 curves do not cross within the horizon"
    return f"Half the paths have crossed by {dates} (the P50 of crossing dates), but {curve_part}: {why}"


#: Characters Markdown (and Streamlit's ``:colour[...]`` and ``:material/...:`` directives) give a meaning.
_MARKDOWN_SPECIAL = frozenset("\\`*_{}[]()<>#+-.!|~$:=")


def plain(text: str) -> str:
    """``text`` escaped so that Streamlit's Markdown shows it as typed (user text: names, descriptions).

    An image link in a scenario name must never make a viewer's browser fetch anything, and a name must
    never turn into a heading, a link or a coloured span.  New lines become spaces.
    """
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIAL else ch for ch in " ".join(text.split()))


def chart_text(text: str) -> str:
    """``text`` escaped so that a Plotly title, legend, axis label or hover shows it as typed (user text: names).

    Plotly reads a subset of HTML in every text (``<b>``, ``<br>``, ``<span style>``, ``<a href>``): a
    scenario name must not turn bold, break a title or become a link.  Plotly decodes the entities back.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def refresh_stopped_text(pid: int, last_line: str, log_name: str) -> str:
    """Why a refresh started from the dashboard ended without a new run: its log's last line, and where the log is."""
    said = f": {plain(last_line[:300])}" if last_line else ""
    return (
        f"The refresh (process {pid}) stopped without publishing a forecast run{said}. Its full output is in "
        f"`{log_name}` next to the database; fix the cause and start it again."
    )


def choice_rows(backtests: pd.DataFrame) -> pd.DataFrame:
    """Per series: the chosen forecaster, the best single model in hindsight, both backtest MASEs and their ratio.

    ``backtests`` is a run's backtest table (unique_id, model, mase, coverage_80, chosen).
    """
    rows = []
    for uid, g in backtests.groupby("unique_id", sort=True):
        chosen = g[g["chosen"].astype(bool)]
        singles = g[~g["model"].str.startswith("combo(")]
        if chosen.empty or singles.empty:
            continue
        best = singles.loc[singles["mase"].idxmin()]
        c = chosen.iloc[0]
        rows.append(
            {
                "series": uid,
                "chosen": c["model"],
                "chosen MASE": round(float(c["mase"]), 3),
                "best single model": best["model"],
                "its MASE": round(float(best["mase"]), 3),
                "ratio": round(float(c["mase"]) / float(best["mase"]), 2) if best["mase"] > 0 else float("nan"),
            }
        )
    return pd.DataFrame(rows, columns=["series", "chosen", "chosen MASE", "best single model", "its MASE", "ratio"])


def choice_text(rows: pd.DataFrame, margin: float) -> str:
    """Why the engine keeps its combination although a single model scored better in the backtest."""
    if rows.empty:
        return "No series was backtested in this run."
    worse = rows[rows["ratio"] > 1]
    lo, hi = (worse["ratio"].min(), worse["ratio"].max()) if len(worse) else (1.0, 1.0)
    times = f"{lo:.2f}×" if f"{lo:.2f}" == f"{hi:.2f}" else f"{lo:.2f}× to {hi:.2f}×"
    return (
        f"In {len(worse)} of {len(rows)} backtested series a single model scored a lower MASE than the chosen "
        f"combination (the combination's MASE is {times} the best single model's). The engine still keeps the "
        f"combination unless a challenger's MASE is below {1 - margin:.0%} of it: the backtest has only a few "
        "origins, and the best model in hindsight changes from origin to origin. On the test periods of the "
        "M1, M3 and Tourism competitions (docs/engine.md), picking the backtest winner lost accuracy against the "
        "fixed combination, and the mean of ETS, ARIMA and Theta was the most accurate core on all three "
        "quarterly sets (MASE 1.059 on M3 quarterly). It is a choice for robustness over a best-in-hindsight pick."
    )


def coverage_text(backtests: pd.DataFrame, origins: int, steps: int) -> str:
    """Why the chosen models' 80% intervals held every backtest actual in most series, and what checks them."""
    from ..engine.calibrate import KNOTS, small_sample_factor  # the engine (statsmodels) only on this page
    from ..frames import HI80

    chosen = backtests[backtests["chosen"].astype(bool)]
    if chosen.empty:
        return ""
    full = int((chosen["coverage_80"] >= 1.0).sum())
    points = origins * steps
    widen = small_sample_factor(len(chosen) * origins)[KNOTS[HI80]]
    return (
        f"The 80% intervals held every backtest actual in {full} of {len(chosen)} series. That is not a sign "
        f"of 80% intervals working as stated, nor proof that they are too wide: each series is scored on only "
        f"{points} actuals from {origins} overlapping origins (errors of one origin move together), and these "
        "backtest intervals are each model's own normal ones at the origin. The published intervals are "
        "different: calibrated from these backtest errors pooled over the run's series and neighbouring steps, "
        f"then widened for the {len(chosen) * origins} origins they rest on ({widen:.2f}× at 80%; a pool of a "
        "few origins is itself uncertain). Were the actuals independent, all "
        f"{points} inside would happen by chance {0.8**points:.1%} of the time per series. The independent "
        "checks are out of sample: the engine's benchmark on held-out samples of six M3 and Tourism sets (the "
        "80% intervals held 74-92% of the values by set, 83% on average, the 95% ones 94-99%; 86% and 95% on "
        "average when each series is forecast alone; benchmarks/results/accuracy_alone.txt) and the crossover "
        "backtest on figures published later (below)."
    )


def call_text(moves: pd.DataFrame) -> str:
    """How to read the replays' calls: those that knew no published share, dates in their own history, blanks.

    ``moves``: one sector's rows of ``backtest.Backtest.moves`` under one definition.
    """
    if moves.empty:
        return ""
    as_of = pd.to_datetime(moves["as_of"])
    said = []
    blind = moves[moves["anchors_known"] == 0]
    if len(blind):
        first, last = pd.to_datetime(blind["as_of"]).agg(["min", "max"])
        said.append(
            f"The replays as of {quarter_text(first)} to {quarter_text(last)} knew no published share, so their "
            "call is the share model's priors alone."
        )
    early = int((pd.to_datetime(moves["p10"]) < as_of).sum())
    if early:
        said.append(
            f"In {early} of {len(moves)} replays the P10 lies before the replay's own date: at least a tenth of its "
            "paths had inference ahead already in the modelled history it saw (modelled, not observed)."
        )
    open_ended = int((moves["p10"].notna() & moves["p90"].isna()).sum())  # the rows the call chart draws dotted
    if open_ended:
        said.append(
            f"{open_ended} replays have no P90 (dotted, from the P10 up): more than a tenth of their paths did not "
            "cross within the horizon."
        )
    return " ".join(said)
