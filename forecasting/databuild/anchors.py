"""The share anchors: each published statement about the inference share, tagged with what it measures.

A published share is only usable once three things are stated: the definition it measures (one of
:data:`forecasting.share.DEFINITIONS`, named as the crossover-claims file names them), whether it is a
point or a bound, and when it was published (so an estimate replayed as of an earlier date can
leave it out).  :data:`CURATED` states them for every share in the curated estimates that the
model uses; ``docs/data.md`` section 2.4 lists the ones left out and why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from forecasting.databuild.curate import Estimate
from forecasting.share import Anchor

ANCHOR_COLUMNS = ["anchor_id", "definition", "t", "value", "bound", "published", "estimate_ids", "note"]


@dataclass(frozen=True)
class Curation:
    """How one anchor reads its estimates: the share is ``num`` (divided by ``den`` when given)."""

    anchor_id: str
    definition: str
    t: float
    bound: str
    published: str
    num: str
    den: str = ""
    note: str = ""


#: Every share anchor the model uses.  ``t`` is mid-year for a calendar year; ``published`` is the
#: date of the release (from the source, or from the claims file's note where the source is undated).
CURATED: tuple[Curation, ...] = (
    Curation(
        "gartner-iaas-2025",
        "cloud_ai_infrastructure_spend",
        2025.5,
        "point",
        "2025-09-19",
        "est-04932bbde4",
        "est-868f36c129",
        "Gartner's 2025 inference spend (9.2) over its 2025 AI-optimised IaaS total (18.325): a ratio of two "
        "Gartner figures on one definition; Gartner states no 2025 share itself.",
    ),
    Curation("gartner-iaas-2026", "cloud_ai_infrastructure_spend", 2026.5, "point", "2025-10", "est-edc545111d"),
    Curation(
        "gartner-iaas-2029",
        "cloud_ai_infrastructure_spend",
        2029.5,
        "lower",
        "2025-10",
        "est-24dcc096e5",
        note="'more than 65%': a lower bound, not a point.",
    ),
    Curation(
        "deloitte-compute-2023",
        "ai_compute",
        2023.5,
        "point",
        "2025-11",
        "est-3a676a27d3",
        note="Stated in Deloitte's TMT Predictions 2026 (November 2025), as 'a third in 2023'.",
    ),
    Curation("deloitte-compute-2025", "ai_compute", 2025.5, "point", "2025-11", "est-98eea1445c"),
    Curation(
        "deloitte-compute-2026",
        "ai_compute",
        2026.5,
        "point",
        "2025-11",
        "est-46540265b8",
        note="'roughly two-thirds' of all AI compute in 2026, a forecast.",
    ),
    Curation("brookfield-compute-2030", "ai_compute", 2030.5, "point", "2025-08-11", "est-7408389aaf"),
    Curation(
        "nvidia-dc-revenue-2024",
        "accelerator_or_dc_revenue",
        2023.83,
        "point",
        "2024-05",
        "est-99ec1b12a6",
        note="About 40% of NVIDIA data-centre revenue over the four quarters to April 2024 (mid-point 2023.83).",
    ),
    Curation(
        "amd-accelerators-2026",
        "accelerator_or_dc_revenue",
        2026.5,
        "point",
        "2024-10",
        "est-b9ae1f0b46",
        note="AMD: inference passes training in AI accelerator spend in 2026, read as a share of 0.5 mid-2026.",
    ),
    Curation(
        "barclays-accelerators-2025",
        "ai_dc_workloads_or_capacity",
        2025.5,
        "point",
        "2025-03",
        "est-95740cb7d1",
        note="Share of AI accelerators installed; the claims file files Barclays under workloads or capacity.",
    ),
    Curation(
        "jll-workloads-2027",
        "ai_dc_workloads_or_capacity",
        2027.5,
        "point",
        "2026-01",
        "est-b5b752a6e7",
        note="JLL: inference becomes the dominant AI data-centre workload in 2027, read as 0.5 mid-2027.",
    ),
    Curation(
        "gartner-accelerators-2028",
        "ai_dc_workloads_or_capacity",
        2028.5,
        "lower",
        "2024-05",
        "est-67cffd89c9",
        note="'more than 80%' of deployed data-centre AI accelerators used for inference by 2028: a lower bound.",
    ),
    Curation(
        "mckinsey-workloads-2030",
        "ai_dc_workloads_or_capacity",
        2030.5,
        "lower",
        "2025-12-17",
        "est-f29ff819cb",
        note="'more than half' of AI workloads by 2030: a lower bound.",
    ),
)


def share_anchors(estimates: Sequence[Estimate]) -> list[tuple[Curation, Anchor]]:
    """Every curated anchor with its share read from the curated estimates."""
    by_id = {e.estimate_id: e for e in estimates}
    out = []
    for c in CURATED:
        missing = [i for i in (c.num, c.den) if i and i not in by_id]
        if missing:
            raise ValueError(f"share anchor {c.anchor_id}: estimates {missing} are not in the curated file")
        value = by_id[c.num].value / (by_id[c.den].value if c.den else 1.0)
        out.append((c, Anchor(c.definition, c.t, value, c.bound, c.anchor_id, c.published)))
    return out


def anchor_rows(anchors: Sequence[tuple[Curation, Anchor]], fmt: Callable[[float], str]) -> list[list[str]]:
    """``share_anchors.csv`` rows (ANCHOR_COLUMNS), values formatted by ``fmt`` (``curate.format_value``)."""
    rows = []
    for c, a in anchors:
        ids = ";".join(i for i in (c.num, c.den) if i)
        rows.append([c.anchor_id, a.definition, f"{a.t:g}", fmt(a.value), a.bound, a.published, ids, c.note])
    return rows
