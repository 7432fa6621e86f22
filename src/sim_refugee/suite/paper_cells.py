"""What the paper prints, legibly, for the tables the suite reproduces.

Table digits were lost in the extraction of the paper (shared/paper/targets.yaml); what
survives is the sign, the position of zeros, the magnitude class and the significance
stars ('?' = a lost digit 1-9; * p<0.05, ** p<0.01, *** p<0.001). These patterns are
printed beside our estimates in the replicate output. Descriptive values are the
numbers the text states (prose digits survived).
"""

from __future__ import annotations

from sim_refugee.suite.specs import T7_ITEMS

#: Table 7 cells by regressor (term name), in T7_ITEMS column order.
T7_CELLS: dict[str, tuple[str, ...]] = {
    "foodaid": ("0.??***", "0.??***", "0.??***", "?.00***", "0.??***", "?.??***", "?.?0***"),
    "camp": ("0.??***", "0.??**", "0.??***", "0.?0**", "0.?? ns", "0.??***", "0.??***"),
    "arrest": ("0.0? ns", "0.??*", "0.?? ns", "0.??*", "0.0? ns", "0.?0***", "0.??**"),
    "trafficking": ("0.??***", "0.??***", "0.??***", "0.??**", "-0.0? ns", "0.?0***", "0.??***"),
    "death": ("0.??***", "0.??***", "0.??***", "0.??***", "0.??***", "0.??***", "0.??***"),
    "female": ("0.??**", "0.0? ns", "0.??*", "0.0? ns", "0.?0 ns", "0.0? ns", "0.0? ns"),
    "age": ("0.??***", "0.0? ns", "-0.0? ns", "0.??***", "0.??***", "0.??***", "0.??***"),
    "elementary": ("-0.??***", "-0.??***", "-0.??***", "-0.0? ns", "0.?0 ns", "-0.?? ns",
                   "-0.?? ns"),
    "farmer": ("-0.??**", "-0.??*", "-0.0? ns", "0.?? ns", "0.?? ns", "0.??**", "0.??***"),
    "trader": ("?.??*", "0.?? ns", "0.?0 ns", "?.0?**", "?.??***", "?.??***", "?.??***"),
    "student": ("0.??***", "-0.?? ns", "-0.?? ns", "-0.??***", "-?.0?***", "-0.?0***",
                "-0.??***"),
    "other_job": ("0.??**", "0.?? ns", "0.?? ns", "0.?? ns", "-0.?0 ns", "-0.?0**", "-0.??*"),
}
T7_N: tuple[str, ...] = ("1,?0?", "1,?0?", "1,?00", "1,?00", "1,0??", "1,?0?", "1,?0?")
assert len(T7_N) == len(T7_ITEMS)

#: Table 7 "Chi-squared" row (LR chi-square of the model against thresholds only; every
#: printed p is 0.00), by item in T7_ITEMS order: targets.yaml table7.chi2.
T7_CHI2: tuple[str, ...] = ("???.??", "???.??", "???.?0", "???.??", "???.??", "1,0?0.??",
                            "1,???.??")
assert len(T7_CHI2) == len(T7_ITEMS)

#: Table 9 columns, in order, as model names.
T9_MODELS: tuple[str, ...] = (
    "t9_2spls_job",
    "t9_us_p1", "t9_us_p2", "t9_us_p3", "t9_us_p4",
    "t9_sk_p1", "t9_sk_p2", "t9_sk_p3", "t9_sk_p4",
)
#: Table 9 cells by term (None = not in that column), under the column assignment of
#: targets.yaml (P2 trafficking, P3 camp, P4 death: an assumption, see specs.py).
T9_CELLS: dict[str, tuple[str | None, ...]] = {
    "avgpsych": ("-?.??***", None, None, None, None, None, None, None, None),
    "foodaid": (None, "0.?? ns", None, None, None, "0.?? ns", None, None, None),
    "camp": (None, "0.?0 ns", None, "0.??**", None, "-0.??*", None, "-0.??**", None),
    "arrest": (None, "0.?? ns", None, None, None, "-0.0? ns", None, None, None),
    "trafficking": ("0.??***", "0.??***", "0.?0***", None, None, "-0.?? ns", "-0.?? ns", None,
                    None),
    "job": (None, "0.0? ns", None, None, None, "0.??*", None, None, None),
    "death": (None, "0.00 ns", None, None, "0.??*", "-0.?? ns", None, None, "-0.??**"),
    "children": ("0.??***", None, None, None, None, None, None, None, None),
    "years_in_china": ("-0.??***", None, None, None, None, None, None, None, None),
    "female": ("0.0? ns", "-0.0? ns", "0.0? ns", "-0.?0 ns", "-0.0? ns", "-0.?? ns", "-0.?? ns",
               "-0.0? ns", "-0.0? ns"),
    "northeast": ("0.0? ns", "-0.??**", "-0.??***", "-0.??**", "-0.??***", "0.0? ns", "0.0? ns",
                  "0.0? ns", "0.0? ns"),
    "pyongyang": ("0.?? ns", "0.?? ns", "0.?? ns", "0.?0 ns", "0.?? ns", "-0.?? ns", "-0.?? ns",
                  "-0.?? ns", "-0.?? ns"),
    "age": ("0.?? ns", "-0.??***", "-0.??***", "-0.??***", "-0.??***", "0.?? ns", "0.?? ns",
            "0.0? ns", "0.0? ns"),
    "secondary": (None, "0.??**", "0.??***", "0.??***", "0.??***", "-0.??*", "-0.?0***",
                  "-0.??**", "-0.??**"),
    "postsecondary": (None, "0.?? ns", "0.??*", "0.??*", "0.??*", "-0.?0*", "-0.?? ns",
                      "-0.?? ns", "-0.?? ns"),
    "elementary": ("-0.?? ns", None, None, None, None, None, None, None, None),
    "farmer": ("0.00 ns", "-0.?? ns", "-0.?0 ns", "-0.?? ns", "-0.?? ns", "0.0? ns", "0.0? ns",
               "0.0? ns", "0.0? ns"),
    "trader": ("-0.?0 ns", "0.?? ns", "0.?? ns", "0.?? ns", "0.?? ns", "-0.0? ns", "-0.?0 ns",
               "-0.?? ns", "-0.?0 ns"),
    "student": ("-0.?? ns", "-0.0? ns", "-0.?? ns", "-0.?0 ns", "-0.?? ns", "-0.?? ns",
                "-0.?? ns", "-0.??*", "-0.??*"),
    "other_job": ("0.?? ns", "0.?? ns", "0.?? ns", "0.?? ns", "0.?? ns", "-0.?0 ns", "-0.?0 ns",
                  "-0.?? ns", "-0.?? ns"),
}
T9_N: tuple[str, ...] = ("???", "1,0??", "1,??0", "1,???", "1,???", "1,0??", "1,??0", "????",
                         "????")

#: Descriptive values the text states (percent), keyed by (item, level, group).
TEXT_PERCENTS: dict[tuple[str, str, str], str] = {
    ("china_spell", ">3y", "total"): "32 (printed ??.0)",
    ("china_spell", ">3y", "female"): "nearly 41 (printed ?0.?)",
    ("china_spell", ">3y", "male"): "23 (printed ??.?)",
    ("camp", "1", "total"): "nearly 10 (printed ?.?)",
    ("camp", "1", "male"): ">= 11.1 (printed ??.?)",
    ("camp", "1", "female"): "<= 9.9 (printed ?.?)",
    ("arrest", "1", "total"): "more than 25",
    ("death", "1", "male"): "more than 23",
    ("death", "1", "female"): "37",
    ("trafficking", "1", "total"): "53",
    ("foodaid", "1", "total"): "about 55-58 (derived)",
    ("family_missing", "1", "total"): "23",
    ("job", "1", "total"): "22",
    ("dest", "south_korea", "total"): "64",
    ("dest", "united_states", "total"): "19",
    ("dest", "china", "total"): "14",
    ("dest", "north_korea", "total"): "?.0",
}


def stars(p: float) -> str:
    """The paper's star code for a p-value (ns when not significant at 5%)."""
    if not p == p:  # NaN
        return ""
    if p < 0.001:
        return "***"
    if p < 0.01:
        return "**"
    if p < 0.05:
        return "*"
    return " ns"


#: Table 9 "Regression summary statistics" rows by column (T9_MODELS order): McFadden's
#: pseudo R-squared (targets.yaml table9.pseudo_r2) and the LR chi-square, whose pattern
#: is read from the paper's Table 9 (continued) summary rows (every printed p is 0.000).
T9_PSEUDO_R2: tuple[str, ...] = ("0.??", "0.??", "0.??", "0.??", "0.??", "0.0?", "0.0?", "0.0?",
                                 "0.0?")
T9_CHI2: tuple[str, ...] = ("?0?.??", "???.?0", "???.??", "???.??", "???.0?", "?0.0?", "??.0?",
                            "??.??", "??.??")
assert len(T9_PSEUDO_R2) == len(T9_MODELS) == len(T9_CHI2)
