"""The dashboard's words: headlines, rule and spread sentences (text only, computed from reports)."""

from __future__ import annotations

from ..crossover import CROSSED_IN_HISTORY, CROSSES_WITHIN_HORIZON, NOT_WITHIN_HORIZON, Crossover
from ..quarters import text as quarter_text
from ..sensitivity import SpreadAttribution


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
        return f"{subject} {did} in {quarter_text(c.crossed_at)}."
    if c.state == CROSSES_WITHIN_HORIZON:
        return f"{subject} {does} in {quarter_text(c.p50)} (80% range {quarter_text(c.p10)} to {quarter_text(c.p90)})."
    last = quarter_text(c.quarter_ends[-1]) if len(c.quarter_ends) else "the horizon"
    if c.state == NOT_WITHIN_HORIZON:
        return f"{subject} {does} after {last} in most paths: {c.prob_within_horizon:.0%} of paths {cross} by then."
    return f"{subject} {not_} by {last} in any sample path."


def rule_text(threshold: float) -> str:
    """The crossover rule in words: ``inference overtakes training`` or ``inference reaches 2× training``."""
    return (
        "inference overtakes training"
        if threshold == 1.0
        else f"inference reaches {threshold_text(threshold)} training"
    )
