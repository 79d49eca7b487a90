"""Known answers from the literature and from hand counts, one per method and tie rule."""

from __future__ import annotations

from fractions import Fraction

import pytest

from stemmen.tally import GradeProfile, RankedProfile, Scale, tally


def ranked(options: str, ballots: list[tuple[int, str]]) -> RankedProfile:
    """Ballots as ``(count, "ACBED")``: one letter per option, most preferred first."""
    return RankedProfile.from_rankings(
        list(options), [(count, [[letter] for letter in order]) for count, order in ballots]
    )


# Schulze, "A new monotonic, clone-independent, reversal symmetric, and Condorcet-consistent
# single-winner election method" (Social Choice and Welfare 36, 2011), example 1: 45 voters.
SCHULZE_EXAMPLE_1 = ranked(
    "ABCDE",
    [
        (5, "ACBED"),
        (5, "ADECB"),
        (8, "BEDAC"),
        (3, "CABED"),
        (7, "CAEBD"),
        (2, "CBADE"),
        (7, "DCEBA"),
        (8, "EBADC"),
    ],
)

# The textbook "Tennessee capital" electorate (Memphis 42%, Nashville 26%, Chattanooga 15%,
# Knoxville 17%), each city voting for itself and then by distance.
TENNESSEE = RankedProfile.from_rankings(
    ["Memphis", "Nashville", "Chattanooga", "Knoxville"],
    [
        (42, [["Memphis"], ["Nashville"], ["Chattanooga"], ["Knoxville"]]),
        (26, [["Nashville"], ["Chattanooga"], ["Knoxville"], ["Memphis"]]),
        (15, [["Chattanooga"], ["Knoxville"], ["Nashville"], ["Memphis"]]),
        (17, [["Knoxville"], ["Chattanooga"], ["Nashville"], ["Memphis"]]),
    ],
)


def test_schulze_paper_example_1_orders_e_a_c_b_d() -> None:
    result = tally(SCHULZE_EXAMPLE_1, "schulze")
    assert result.ranking == (("E",), ("A",), ("C",), ("B",), ("D",))
    paths = result.details["strongest_paths"]
    # The strongest paths from the winner E, by margin: to A 5, to B and C 11, to D 17.
    e = "ABCDE".index("E")
    assert [paths[e][x] for x in range(5) if x != e] == [5, 11, 11, 17]
    assert result.condorcet_winner is None  # the example has a majority cycle


def test_schulze_winning_votes_agrees_on_paper_example_1() -> None:
    result = tally(SCHULZE_EXAMPLE_1, "schulze", schulze_variant="winning-votes")
    assert result.winners == ("E",)
    assert result.parameters["schulze_variant"] == "winning-votes"
    # The paper's table of strongest paths in winning votes, row E: 25, 28, 28, 31.
    paths = result.details["strongest_paths"]
    assert list(paths[4][:4]) == [25, 28, 28, 31]


def test_schulze_paper_example_1_pairwise_counts() -> None:
    result = tally(SCHULZE_EXAMPLE_1, "schulze")
    # d[A,B] = 20 and d[B,A] = 25 in the paper's pairwise table.
    assert result.pairwise is not None
    assert result.pairwise[0][1] == 20
    assert result.pairwise[1][0] == 25
    assert result.pairwise[4][3] == 31
    assert result.margin("E", "D") == 31 - 14


def test_tennessee_condorcet_methods_elect_nashville() -> None:
    for method in ("schulze", "ranked-pairs", "copeland", "borda"):
        result = tally(TENNESSEE, method)
        assert result.winners == ("Nashville",), method
    result = tally(TENNESSEE, "ranked-pairs")
    assert result.ranking == (("Nashville",), ("Chattanooga",), ("Knoxville",), ("Memphis",))
    assert result.condorcet_winner == "Nashville"
    assert result.condorcet_loser == "Memphis"


def test_tennessee_borda_points() -> None:
    scores = tally(TENNESSEE, "borda").scores
    assert scores == {"Memphis": 126, "Nashville": 194, "Chattanooga": 173, "Knoxville": 107}


def test_tennessee_plurality_elects_memphis() -> None:
    result = tally(TENNESSEE, "plurality")
    assert result.winners == ("Memphis",)
    assert result.scores["Memphis"] == 42


def test_tennessee_irv_elects_knoxville_round_by_round() -> None:
    result = tally(TENNESSEE, "irv")
    assert result.winners == ("Knoxville",)
    assert [r.eliminated for r in result.rounds] == ["Chattanooga", "Nashville", "Memphis"]
    assert result.rounds[1].votes == {"Memphis": 42, "Nashville": 26, "Knoxville": 32}
    assert result.rounds[2].votes == {"Memphis": 42, "Knoxville": 58}
    assert result.rounds[2].majority == "Knoxville"
    assert result.ranking == (("Knoxville",), ("Memphis",), ("Nashville",), ("Chattanooga",))


def test_irv_elimination_tie_without_tie_break_follows_every_order() -> None:
    # a and b tie for last with 2 each; eliminating a elects c, eliminating b elects b.
    profile = ranked("abc", [(2, "acb"), (2, "bca"), (3, "cab")])
    result = tally(profile, "irv")
    assert result.rounds[0].tied_for_last == ("a", "b")
    assert result.rounds[0].eliminated is None
    assert set(result.winners) == {"c"}
    profile = ranked("abcd", [(2, "abdc"), (2, "bacd"), (3, "cdab"), (3, "dcba")])
    result = tally(profile, "irv")
    assert set(result.winners) == {"c", "d"}
    assert result.rounds[0].tied_for_last == ("a", "b")


def test_irv_elimination_tie_is_broken_visibly_by_the_rule_set() -> None:
    profile = ranked("abc", [(2, "bac"), (2, "cab"), (1, "abc")])
    plain = tally(profile, "irv")
    assert plain.rounds[0].eliminated == "a"
    # b and c tie 3:2 after a goes? b gets a's ballot: b 3, c 2 -> b.
    assert plain.winners == ("b",)
    tied = ranked("abcd", [(3, "abcd"), (3, "bacd"), (2, "cdab"), (2, "dcba")])
    without = tally(tied, "irv")
    assert without.rounds[0].tied_for_last == ("c", "d")
    with_order = tally(tied, "irv", tie_break=["a", "b", "c", "d"])
    assert with_order.rounds[0].eliminated == "d"  # the least preferred of the tied pair goes
    assert with_order.tie_break_steps[0].context.startswith("irv round 1")
    assert with_order.tie_break_steps[0].tied == ("c", "d")


def test_mbc_gives_m_points_down_to_one_and_zero_to_unranked() -> None:
    profile = RankedProfile.from_rankings(
        ["a", "b", "c", "d"], [(1, [["a"], ["b"]]), (1, [["c"], ["a", "b"], ["d"]])]
    )
    scores = tally(profile, "mbc").scores
    # Ballot 1 ranks 2 options: a 2, b 1. Ballot 2 ranks 4: c 4, a and b share 3+2, d 1.
    assert scores == {"a": Fraction(9, 2), "b": Fraction(7, 2), "c": 4, "d": 1}


def test_borda_with_truncation_and_the_unranked_flag() -> None:
    profile = RankedProfile.from_rankings(["a", "b", "c"], [(1, [["a"]]), (1, [["b"], ["c"]])])
    below = tally(profile, "borda").scores
    # Flag on: a beats b and c (2), b and c tie (1/2 each); then b 2, c 1, a 0.
    assert below == {"a": 2, "b": Fraction(5, 2), "c": Fraction(3, 2)}
    apart = tally(profile, "borda", unranked_below_ranked=False).scores
    assert apart == {"a": 0, "b": 1, "c": 0}


def test_copeland_counts_half_for_a_pairwise_tie() -> None:
    profile = ranked("abc", [(1, "abc"), (1, "bac")])
    scores = tally(profile, "copeland").scores
    assert scores == {"a": Fraction(3, 2), "b": Fraction(3, 2), "c": 0}
    assert tally(profile, "copeland").winners == ("a", "b")


def test_ranked_pairs_locks_strongest_majorities_and_skips_cycles() -> None:
    # Cycle a>b (margin 5), b>c (3), c>a (1): c>a is skipped.
    profile = ranked("abc", [(4, "abc"), (3, "bca"), (2, "cab")])
    result = tally(profile, "ranked-pairs")
    assert result.ranking == (("a",), ("b",), ("c",))
    assert result.details["skipped"] == [("c", "a")]


SCALE = Scale.labelled(["to reject", "poor", "acceptable", "good", "very good", "excellent"])


def graded(rows: list[tuple[int, dict[str, str]]]) -> GradeProfile:
    return GradeProfile.from_grades(["A", "B", "C"], SCALE, rows)


def test_majority_judgment_uses_the_lower_median() -> None:
    profile = graded([(1, {"A": "excellent", "B": "good"}), (1, {"A": "poor", "B": "good"})])
    result = tally(profile, "majority-judgment")
    assert result.scores["A"] == "poor"  # lower median of {poor, excellent}
    assert result.scores["B"] == "good"
    assert result.winners == ("B",)


def test_majority_judgment_breaks_equal_medians_by_removing_median_grades() -> None:
    # Balinski and Laraki's procedure: both medians are "good"; remove one "good" each.
    # A: poor, good, good, excellent, excellent -> after removal: poor, good, excellent, excellent
    #    -> lower median good; B: poor, poor, good, very good, excellent -> poor, poor, very good,
    #    excellent -> lower median poor. A wins although one step of the "majority gauge" ties.
    profile = GradeProfile.from_grades(
        ["A", "B"],
        SCALE,
        [
            (1, {"A": "poor", "B": "poor"}),
            (1, {"A": "good", "B": "poor"}),
            (1, {"A": "good", "B": "good"}),
            (1, {"A": "excellent", "B": "very good"}),
            (1, {"A": "excellent", "B": "excellent"}),
        ],
    )
    result = tally(profile, "majority-judgment")
    assert result.ranking == (("A",), ("B",))
    assert result.scores == {"A": "good", "B": "good"}


def test_majority_judgment_identical_distributions_tie_and_blanks_abstain() -> None:
    profile = graded(
        [(2, {"A": "good", "B": "good", "C": "poor"}), (1, {"A": "poor", "B": "poor"})]
    )
    result = tally(profile, "majority-judgment")
    assert result.ranking[0] == ("A", "B")
    # C's only grades are the two "poor"s: its blank is left out, not counted as a grade.
    assert result.grade_distributions is not None
    assert result.grade_distributions["C"]["blank"] == 1
    once = graded([(1, {"A": "poor", "C": "good"}), (2, {"A": "poor"})])
    assert tally(once, "majority-judgment").scores["C"] == "good"
    assert tally(once, "majority-judgment").winners == ("C",)
    lowest = tally(once, "majority-judgment", blank="lowest")
    assert lowest.scores["C"] == "to reject"
    assert lowest.winners == ("A",)


STAR = Scale.numeric(0, 5)


def star_profile(options: str, rows: list[dict[str, int]]) -> GradeProfile:
    return GradeProfile.from_grades(list(options), STAR, [(1, row) for row in rows])


def test_star_unbreakable_tie_for_second_in_scoring_round() -> None:
    # Equal Vote's starvote test election: Chuck 15; Amy and Brian 6 each, one voter prefers
    # each, no five-star scores; the tie is reported and Chuck wins every runoff.
    profile = star_profile(
        "CAB", [{"C": 5, "A": 4, "B": 2}, {"C": 5, "A": 1, "B": 3}, {"C": 5, "A": 1, "B": 1}]
    )
    result = tally(profile, "star")
    assert result.winners == ("C",)
    assert result.ranking == (("C",), ("A", "B"))
    rules = [step["rule"] for step in result.details["official_tie_rules"]]
    assert rules == ["head-to-head", "five-star"]


def test_star_runoff_tie_goes_to_the_higher_score_then_more_five_stars() -> None:
    # Brian 12, Chuck 12, Amy 3; runoff 1:1 with one no-preference; scores tie; Chuck has
    # two five-star scores to Brian's one and wins (starvote's test election).
    profile = star_profile(
        "ABC",
        [{"A": 1, "B": 4, "C": 2}, {"A": 1, "B": 3, "C": 5}, {"A": 1, "B": 5, "C": 5}],
    )
    result = tally(profile, "star")
    assert result.winners == ("C",)
    assert result.details["official_tie_rules"][-1]["rule"] == "runoff tie: more top scores"
    by_score = star_profile("AB", [{"A": 5, "B": 1}, {"A": 3, "B": 4}])
    assert tally(by_score, "star").winners == ("A",)  # runoff 1:1, score 8 against 5


def test_star_scoring_round_tie_goes_to_the_head_to_head_winner() -> None:
    profile = star_profile(
        "ABC", [{"A": 5, "B": 3, "C": 2}, {"A": 5, "B": 3, "C": 2}, {"A": 5, "B": 0, "C": 2}]
    )
    result = tally(profile, "star")
    assert result.ranking == (("A",), ("B",), ("C",))
    assert result.details["runoffs"][0]["finalists"] == ["A", "B"]


def test_star_counts_a_blank_as_zero_in_the_runoff() -> None:
    profile = star_profile("AB", [{"A": 1}, {"A": 0, "B": 2}, {"A": 3, "B": 2}])
    result = tally(profile, "star")
    assert result.details["runoffs"][0]["preferring"] == {"A": 2, "B": 1}
    assert result.winners == ("A",)


def test_score_sum_and_mean_are_exact() -> None:
    profile = star_profile("AB", [{"A": 1}, {"A": 2, "B": 2}, {"A": 2, "B": 5}])
    assert tally(profile, "score-sum").scores == {"A": 5, "B": 7}
    mean = tally(profile, "score-mean")
    assert mean.scores == {"A": Fraction(5, 3), "B": Fraction(7, 2)}
    assert mean.counts["graded_by"] == {"A": 3, "B": 2}
    assert tally(profile, "score-mean", blank="lowest").scores["B"] == Fraction(7, 3)


@pytest.mark.parametrize("method", ["schulze", "ranked-pairs", "copeland"])
def test_a_perfect_tie_is_reported_as_a_tie(method: str) -> None:
    profile = ranked("ab", [(1, "ab"), (1, "ba")])
    result = tally(profile, method)
    assert result.winners == ("a", "b")
    assert result.tie_break_steps == ()


def test_every_ranked_result_counts_first_preferences_and_rankers() -> None:
    result = tally(TENNESSEE, "schulze")
    assert result.counts["first_preferences"] == {
        "Memphis": 42,
        "Nashville": 26,
        "Chattanooga": 15,
        "Knoxville": 17,
    }
    assert result.counts["ranked_by"] == dict.fromkeys(TENNESSEE.options, 100)
