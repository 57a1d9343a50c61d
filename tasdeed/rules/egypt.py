"""Egypt: arrears that get the meter replaced by a prepaid one."""

from __future__ import annotations

from tasdeed.rules.decision import Decision
from tasdeed.rules.settings import PrepaidConversionSettings
from tasdeed.text import Text


def prepaid_conversion(unpaid_bills: int, s: PrepaidConversionSettings) -> Decision:
    """Outcome True = flagged for a prepaid meter (arrears of at least the set number of bills).
    Whenever a bill is unpaid, the reasons also say how to avoid it."""
    if unpaid_bills < 0:
        raise ValueError(f"unpaid bills cannot be negative, got {unpaid_bills}")
    flagged = unpaid_bills >= s.min_unpaid_bills
    params = {"count": unpaid_bills, "max": s.min_unpaid_bills}
    key = "rules.eg.prepaid.flagged" if flagged else "rules.eg.prepaid.clear"
    reasons = [Text(key, params)]
    if unpaid_bills:
        reasons.append(Text("rules.eg.prepaid.avoid"))
    return Decision(flagged, tuple(reasons))
