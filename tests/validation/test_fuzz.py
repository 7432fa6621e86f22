"""Property-based bad-input tests (hypothesis): random mutations of valid configs and of a
valid population file never produce a traceback or a partial output.

Each example takes a valid input, applies one to three mutations (a value replaced by
one of the troublemakers below, a key deleted, an unknown key added, a column dropped
or retyped, a cell overwritten...) and runs the real entry point. The property: the
command either succeeds and writes its complete output, or exits 2 with a message and
leaves the output folder exactly as it was. Any other exception fails the test.

Examples are derandomized (the same ones on every run) and bounded in number and time,
so the suite stays fast and deterministic; the valid inputs use the toy unit and a
2,000-person population so that mutated inputs which are still valid run in well under
a second.
"""

from __future__ import annotations

import copy
import json
import math
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, assume, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sim_refugee.cli import main  # noqa: E402
from sim_refugee.engine.config import validate_experiment  # noqa: E402
from sim_refugee.errors import UserInputError  # noqa: E402
from sim_refugee.world.schema import POPULATION_SCHEMA  # noqa: E402
from tests.validation.conftest import listing, small_population  # noqa: E402

FUZZ = settings(
    max_examples=60,
    deadline=timedelta(seconds=30),
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

#: Values that have broken entry points before (issue #14): wrong types, non-finite and
#: huge numbers, names that escape a folder, empty and nested containers.
TROUBLE: list[Any] = [
    True, False, 0, 1, 3, -1, 2**63 - 1, -(2**63), 0.0, 0.5, -0.5, 1346.0, 1e300, -1e300,
    1e-300, math.nan, math.inf, -math.inf, "", "1", "yes", "off", "20000", "../../x", "a/b",
    "n" * 300, "a\x00b", "lots", "srs", [], [1, 2], ["a"], {}, {"x": 1},
]


# ---------------------------------------------------------------------------
# TOML writer (the standard library only reads TOML): every value inline
# ---------------------------------------------------------------------------


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # JSON string escapes are valid TOML basic-string escapes
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_toml_value(x)}"
                               for k, x in v.items()) + "}"
    raise TypeError(type(v))


def to_toml(d: dict[str, Any]) -> str:
    """A TOML document of top-level keys with inline values."""
    return "".join(f"{json.dumps(k)} = {_toml_value(v)}\n" for k, v in d.items())


# ---------------------------------------------------------------------------
# mutations of nested dicts
# ---------------------------------------------------------------------------


def _paths(d: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path into ``d`` (through dicts and lists)."""
    out = []
    items = d.items() if isinstance(d, dict) else enumerate(d) if isinstance(d, list) else ()
    for k, v in items:
        out.append((*prefix, k))
        out.extend(_paths(v, (*prefix, k)))
    return out


@st.composite
def mutated(draw: Any, base: dict[str, Any]) -> dict[str, Any]:
    """``base`` with one to three mutations."""
    d = copy.deepcopy(base)
    for _ in range(draw(st.sampled_from([1, 1, 2, 3]))):
        paths = _paths(d)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = d
        for p in path[:-1]:
            parent = parent[p]
        op = draw(st.sampled_from(["replace", "replace", "replace", "delete", "add"]))
        if op == "replace":
            parent[path[-1]] = copy.deepcopy(draw(st.sampled_from(TROUBLE)))
        elif op == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif op == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["colour", "sise", "n"]))] = draw(
                st.sampled_from(TROUBLE))
    return d


def _check_cli(argv: list[str], folder: Path, before: set[str], product: Path) -> int:
    """Run the CLI; exit 0 must leave ``product``; exit 2 must leave ``folder`` as it was.
    Anything else (another code, an exception) fails the test."""
    code = main(argv)
    event(f"exit {code}")
    assert code in (0, 2), code
    if code == 2:
        assert listing(folder) == before, "a refused input left something behind"
    else:
        assert product.exists(), "success without the output"
        assert not [p for p in folder.rglob(".*") if p.suffix == ".tmp"], "temp file left"
    return code


# ---------------------------------------------------------------------------
# 1. experiment configs, run end to end on the toy unit
# ---------------------------------------------------------------------------

TOY_CONFIG: dict[str, Any] = {
    "experiment": {"name": "toy", "unit": "toy", "root_seed": 1, "replications": 2,
                   "chunk_size": 2, "populations": 1},
    "world": {"size": 300, "p_b": 0.3, "sd_y": 1.0},
    "unit": {"fail_reps": [1]},
    "designs": [{"name": "srs"}, {"name": "biased", "label": "b1", "params": {"strength": 0.3}}],
    "sample": {"n": 20},
    "grid": {"world.effect": [0.0, 0.5]},
    "backend": {"kind": "serial"},
    "stopping": {"target_mcse": 10.0, "max_replications": 4, "batch": 2},
}


@pytest.mark.timeout(600)
@FUZZ
@given(cfg=mutated(TOY_CONFIG))
def test_mutated_toy_experiment(cfg: dict[str, Any], tmp_path_factory) -> None:
    tmp = tmp_path_factory.mktemp("fuzz_run")
    path = tmp / "c.toml"
    path.write_text(to_toml(cfg))
    before = listing(tmp)
    out = tmp / "out"
    _check_cli(["run", str(path), "--out", str(out), "--no-progress"], tmp, before,
               out / "results.nc")


# ---------------------------------------------------------------------------
# 2. paper-suite experiment configs: validated (a valid one is not run: minutes each)
# ---------------------------------------------------------------------------

SUITE_CONFIG: dict[str, Any] = {
    "experiment": {"name": "suite", "root_seed": 1, "replications": 2},
    "world": {"size": 5000, "effects": "null", "selection": {"or_urban": 2.0, "base": -3.0},
              "assumptions": {"age.sd": 10.0, "items.anger.shares": [0.2, 0.3, 0.3, 0.2]},
              "targets": {"female": 0.5}},
    "unit": {"snp_order": 2, "include_variants": False, "weights": "none"},
    "designs": [
        {"name": "paper", "params": {"n_interviewers": 48, "artefacts": {
            "nonresponse_rate": 0.1, "nonresponse_slope": 1.0, "interviewer_sd": 0.1,
            "nonresponse_items": ["anger", "fear"]}}},
        {"name": "rds", "label": "rds_a", "params": {"accept_by": {"foodaid": 0.5},
                                                    "network": {"mean_degree": 6.0}}},
        {"name": "quota", "params": {"age_cuts": [30.0, 45.0], "reach": {"distress": 0.5}}},
    ],
    "sample": {"n": [100, 200]},
    "grid": {"designs.rds_a.n_seeds": [5, 10]},
    "cluster": {"kind": "slurm", "memory": "4GB", "walltime": "02:00:00", "cores": 2},
}


@pytest.mark.timeout(600)
@FUZZ
@given(cfg=mutated(SUITE_CONFIG))
def test_mutated_suite_experiment_validates_or_names_the_key(cfg: dict[str, Any]) -> None:
    try:
        exp = validate_experiment(cfg)
    except UserInputError as exc:
        event("refused")
        assert exc.key, f"no key named: {exc}"
        assert str(exc)
        return
    event("valid")
    assert exp.conditions and all(c.n <= c.world.get("size", 100_000) for c in exp.conditions)


# ---------------------------------------------------------------------------
# 3. sample --population: mutated design params and mutated population files
# ---------------------------------------------------------------------------

DESIGN_PARAMS: dict[str, dict[str, Any]] = {
    "paper": {"n_interviewers": 48, "site_quota": {"Shenyang": 0.5, "Harbin": 0.5},
              "reach": {"or_urban": 2.0, "or_distress": 1.5},
              "artefacts": {"duplicate_rate": 0.05, "nonresponse_rate": 0.1,
                            "nonresponse_mechanism": "mnar_value", "nonresponse_slope": 0.5,
                            "nonresponse_items": ["anger", "fear"], "interviewer_sd": 0.2,
                            "memorised_rate": 0.1}},
    "srs": {"n_interviewers": 10, "weighting": {"rake_columns": ["female", "province"],
                                                "trim_quantile": 0.9}},
    "quota": {"age_cuts": [30.0, 40.0], "allocation": "equal", "reach": {"distress": 0.5}},
    "tls": {"intercepts_per_unit": 5, "frequency_error_sd": 0.2,
            "venues": {"days": 7, "types": {"market": {"per_site": 2, "intercept": -0.5,
                                                        "slot_rate": 0.2}}}},
    "rds": {"n_seeds": 5, "coupons": 2, "accept_by": {"foodaid": 0.5}, "estimator": "ss",
            "network": {"mean_degree": 6.0, "homophily": {"province": 0.3}},
            "seed_pool": {"province": "other"}},
    "snowball": {"n_seeds": 3, "referral_prob": 0.5, "refusal_prob": 0.2,
                 "network": {"degree_by": {"church_tie": 0.5}}},
}


def _pop_mutation(draw: Any, pop: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """One mutation of the population frame (or of its attrs), and whether it certainly
    breaks the schema (then the file must be refused)."""
    col = draw(st.sampled_from(list(pop.columns)))
    in_schema = col in POPULATION_SCHEMA
    numeric = pd.api.types.is_numeric_dtype(pop[col])
    op = draw(st.sampled_from(["drop", "as_str", "as_float", "as_bool", "cell", "cell",
                               "dup_id", "empty", "attrs", "extra"]))
    if op == "drop":
        return pop.drop(columns=[col]), in_schema
    if op == "as_str":
        return pop.assign(**{col: pop[col].astype(str)}), in_schema and numeric
    if op == "as_float" and numeric:
        integer = pd.api.types.is_integer_dtype(pop[col])
        return pop.assign(**{col: pop[col].astype(float)}), in_schema and integer
    if op == "as_bool" and numeric:
        return pop.assign(**{col: pop[col] != 0}), in_schema
    if op == "cell":
        row = draw(st.integers(0, len(pop) - 1))
        if numeric:
            value = draw(st.sampled_from([-1, 0, 1, 2, 4, 5, 9, 0.5, 200.0, math.nan,
                                          math.inf, -math.inf, 1e300]))
            values = pop[col].to_numpy(dtype=float, copy=True)
        else:
            value = draw(st.sampled_from(["", "atlantis", "none", "other", "Shenyang"]))
            values = pop[col].astype(object).to_numpy(copy=True)
        values[row] = value
        dtype = pop[col].dtype
        if (pd.api.types.is_integer_dtype(dtype) and float(value).is_integer()
                and np.iinfo(dtype).min <= value <= np.iinfo(dtype).max):
            values = values.astype(dtype)  # keep the dtype where the value allows
        return pop.assign(**{col: values}), False
    if op == "dup_id":
        ids = pop["person_id"].to_numpy().copy()
        ids[0] = ids[1]
        return pop.assign(person_id=ids), True
    if op == "empty":
        return pop.iloc[:0], True
    if op == "attrs":
        key = draw(st.sampled_from(["selection", "site_quotas"]))
        out = pop.copy()
        out.attrs = copy.deepcopy(pop.attrs)
        sub = out.attrs[key]
        value = draw(st.sampled_from([math.nan, math.inf, -1.0, 0.0, 1e300, "x", True]))
        sub[draw(st.sampled_from(sorted(sub)))] = value
        return out, isinstance(value, (str, bool)) or not math.isfinite(value) or value < 0
    return pop.assign(mood=draw(st.sampled_from(["fine", 1.5, math.nan]))), False


@st.composite
def sample_inputs(draw: Any) -> tuple[str, dict[str, Any], pd.DataFrame | None, bool]:
    design = draw(st.sampled_from(sorted(DESIGN_PARAMS)))
    params = DESIGN_PARAMS[design]
    if draw(st.booleans()):
        params = draw(mutated(params))
    pop, must_refuse = None, False
    if draw(st.booleans()):
        pop, must_refuse = _pop_mutation(draw, small_population())
    return design, params, pop, must_refuse


@pytest.mark.timeout(600)
@FUZZ
@given(inputs=sample_inputs())
def test_mutated_sample_inputs(inputs, pop_file: Path, tmp_path_factory) -> None:
    design, params, pop, must_refuse = inputs
    tmp = tmp_path_factory.mktemp("fuzz_sample")
    src = pop_file
    if pop is not None:
        src = tmp / "pop.parquet"
        try:
            pop.to_parquet(src, index=False)
        except Exception:  # pyarrow cannot store this frame: not an input a user can have
            assume(False)
    ptoml = tmp / "params.toml"
    ptoml.write_text(to_toml({"params": params}))
    before = listing(tmp)
    out = tmp / "s.csv"
    code = _check_cli(["sample", "--population", str(src), "--design", design, "--n", "50",
                       "--seed", "1", "--params", str(ptoml), "--out", str(out)], tmp, before,
                      out)
    if must_refuse:
        assert code == 2, "a population file that breaks the schema was accepted"
    if code == 0:
        assert len(pd.read_csv(out)) > 0
