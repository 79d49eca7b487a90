"""The preferendum tally engine: pure, exact, every tie shown.

``tally(profile, "schulze")`` orders one question's options; ``tally_preferendum`` does a
whole multi-question ballot. Nothing here imports the web layer or the database.
"""

from stemmen.tally.errors import TallyError
from stemmen.tally.methods import METHODS, tally
from stemmen.tally.profiles import ApprovalProfile, GradeProfile, RankedProfile, Scale
from stemmen.tally.result import Tally
from stemmen.tally.tiebreak import TieBreak, TieBreakStep

__all__ = [
    "METHODS",
    "ApprovalProfile",
    "GradeProfile",
    "RankedProfile",
    "Scale",
    "Tally",
    "TallyError",
    "TieBreak",
    "TieBreakStep",
    "tally",
]
