"""2SPLS plumbing against statsmodels and by construction: the log-likelihoods and
degrees of freedom of both equations, Amemiya's c and d, the array path, the combined
status and messages, and every refusal of bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from sim_refugee.errors import UserInputError
from sim_refugee.estimators import TwoStageProbitLS
from sim_refugee.estimators.results import EstimationResults
from sim_refugee.estimators.twostage import TwoStageEquationResults, TwoStageProbitLSResults


def _draw(seed: int, n: int = 400) -> pd.DataFrame:
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([15, seed])))
    xa, food, fam = rng.normal(size=n), rng.normal(size=n), (rng.random(n) < 0.5).astype(float)
    u1 = rng.normal(size=n)
    u2 = 0.5 * u1 + np.sqrt(0.75) * rng.normal(size=n)
    y2star = -0.1 + 0.3 * xa + 0.8 * fam + u2
    y1 = 0.2 + 0.5 * xa + 0.6 * food + 0.4 * y2star + u1
    return pd.DataFrame({"y1": y1, "y2": (y2star - 0.3 * y1 > 0).astype(float), "xa": xa,
                         "food": food, "fam": fam})


def _model(df: pd.DataFrame) -> TwoStageProbitLS:
    return TwoStageProbitLS(df["y1"], df["y2"], df[["xa", "food"]], df[["xa", "fam"]])


def test_equations_llf_df_and_amemiya_constants():
    df = _draw(1)
    res = _model(df).fit()
    n = len(df)
    x = sm.add_constant(df[["xa", "food", "fam"]], prepend=False)
    ols1 = sm.OLS(df["y1"], x).fit()
    prb1 = sm.Probit(df["y2"], x).fit(disp=0)
    z1 = np.column_stack([x @ prb1.params, df[["xa", "food"]], np.ones(n)])
    z2 = np.column_stack([x @ ols1.params, df[["xa", "fam"]], np.ones(n)])
    ols2 = sm.OLS(df["y1"], z1).fit()
    prb2 = sm.Probit(df["y2"], z2).fit(disp=0)
    cont, binr = res.continuous, res.binary
    assert cont.llf == pytest.approx(ols2.llf, rel=1e-9)
    assert binr.llf == pytest.approx(prb2.llf, rel=1e-9)
    assert (cont.df_resid, cont.use_t, binr.use_t) == (n - 4, True, False)
    assert cont.cov_type == binr.cov_type == "amemiya"
    assert cont.nobs == binr.nobs == res.nobs == n
    np.testing.assert_allclose(cont.pvalues, 2 * stats.t(n - 4).sf(np.abs(cont.params / cont.bse)),
                               rtol=1e-10)
    s11 = ols1.ssr / (n - 4)
    phi = stats.norm.pdf(x.to_numpy() @ prb1.params.to_numpy())
    s12 = np.mean(df["y2"].to_numpy() * ols1.resid.to_numpy() / phi)
    g1, g2 = ols2.params.iloc[0], prb2.params.iloc[0]
    assert res.stage1["s11"] == pytest.approx(s11, rel=1e-9)
    assert res.stage1["s12"] == pytest.approx(s12, rel=1e-6)
    assert cont.c == pytest.approx(s11 - 2 * g1 * s12, rel=1e-6)
    assert binr.d == pytest.approx(g2**2 * s11 - 2 * g2 * s12, rel=1e-6)
    np.testing.assert_allclose(res.stage1["pi_continuous"], ols1.params, rtol=1e-10)
    assert list(res.stage1["pi_binary"].index) == ["xa", "food", "fam", "const"]
    assert (res.status, res.status_message, res.converged) == ("ok", "", True)
    assert cont.converged and binr.converged and cont.status_message == binr.status_message == ""
    assert res.summary() == cont.summary() + "\n\n" + binr.summary()
    assert repr(res) == f"<TwoStageProbitLSResults status='ok' nobs={n}>"


def test_array_path_equals_the_frame_path():
    df = _draw(2, 300)
    res = _model(df).fit()
    arr = TwoStageProbitLS.from_arrays(
        "y1", "y2", df["y1"].to_numpy(), df["y2"].to_numpy(), ["xa", "food"],
        df[["xa", "food"]].to_numpy(), ["xa", "fam"], df[["xa", "fam"]].to_numpy()).fit()
    for a, b in ((arr.continuous, res.continuous), (arr.binary, res.binary)):
        np.testing.assert_allclose(a.params, b.params, rtol=1e-12)
        np.testing.assert_allclose(a.bse, b.bse, rtol=1e-10)
        assert list(a.params.index) == list(b.params.index)


def _eq(status: str, msg: str, converged: bool) -> TwoStageEquationResults:
    return TwoStageEquationResults(pd.Series([0.0], index=["a"]), np.eye(1), nobs=5,
                                   converged=converged, status=status, status_message=msg)


def test_combined_status_and_messages():
    both = TwoStageProbitLSResults(_eq("ok", "", True), _eq("not_converged", "stage-2 probit: slow", False), {})
    assert (both.status, both.converged) == ("not_converged", False)
    assert both.status_message == "binary: stage-2 probit: slow"
    two = TwoStageProbitLSResults(_eq("singular_hessian", "x", True), _eq("non_psd_cov", "y", True), {})
    assert (two.status, two.status_message, two.converged) == ("singular_hessian", "continuous: x; binary: y", True)
    assert TwoStageProbitLSResults(_eq("ok", "", False), _eq("ok", "", True), {}).converged is False
    assert isinstance(both.continuous, EstimationResults) and both.nobs == 5


def test_failures_are_reported():
    df = _draw(3, 60)
    res = _model(df.iloc[:4]).fit()  # n = 4 <= k = 4 columns (3 exog + const)
    assert res.status == "failed" and res.stage1 == {}
    assert res.continuous.status_message == "too few observations (4) or no variation in 'y2'"
    assert list(res.continuous.params.index) == ["y2", "xa", "food", "const"]
    assert list(res.binary.params.index) == ["y1", "xa", "fam", "const"]
    assert res.binary.params.isna().all() and res.nobs == 4
    flat = _model(df.assign(y2=1.0)).fit()
    assert flat.status == "failed" and "no variation in 'y2'" in flat.status_message


def test_bad_input_is_refused_with_the_column_named():
    df = _draw(4, 50)
    with pytest.raises(UserInputError, match="share the name 'y1'"):
        TwoStageProbitLS(df["y1"], df["y2"].rename("y1"), df[["xa", "food"]], df[["xa", "fam"]])
    with pytest.raises(UserInputError, match="endogenous variable 'y1' also appears"):
        TwoStageProbitLS(df["y1"], df["y2"], df[["xa", "food"]], df[["xa", "fam", "y1"]])
    with pytest.raises(UserInputError, match="binary equation not identified"):
        TwoStageProbitLS(df["y1"], df["y2"], df[["xa"]], df[["xa", "fam"]])
    with pytest.raises(UserInputError, match="continuous equation not identified"):
        TwoStageProbitLS(df["y1"], df["y2"], df[["xa", "food"]], df[["xa"]])
    with pytest.raises(UserInputError, match="column 'xa' differs"):
        TwoStageProbitLS(df["y1"], df["y2"], df[["xa", "food"]], df[["fam"]].assign(xa=df["food"]))
    with pytest.raises(UserInputError, match="endog_binary 'y2' must be 0/1"):
        TwoStageProbitLS(df["y1"], df["y2"] + 1, df[["xa", "food"]], df[["xa", "fam"]])
    with pytest.raises(UserInputError, match="exog_binary column 'const'"):
        TwoStageProbitLS(df["y1"], df["y2"], df[["xa", "food"]], df[["fam"]].assign(const=1.0))


def test_probit_stages_stopped_early_are_reported(monkeypatch):
    import sim_refugee.estimators.probit as probit_mod

    newton = probit_mod.newton_maximize
    monkeypatch.setattr(probit_mod, "newton_maximize",
                        lambda f, x0, **kw: newton(f, x0, **{**kw, "maxiter": 1}))
    res = _model(_draw(5)).fit()
    cont, binr = res.continuous, res.binary
    assert (cont.status, cont.status_message) == ("not_converged", "stage-1 probit: iteration limit reached")
    assert binr.status == "not_converged"
    assert binr.status_message == ("stage-1 probit: iteration limit reached; "
                                   "stage-2 probit: iteration limit reached")
    assert not cont.converged and not binr.converged and not res.converged
    assert res.status_message == ("continuous: stage-1 probit: iteration limit reached; binary: "
                                  "stage-1 probit: iteration limit reached; stage-2 probit: iteration limit reached")


def test_singular_first_stage_and_corrected_covariance():
    df = _draw(6)
    zero = TwoStageProbitLS(df["y1"], df["y2"], df[["xa", "food"]].assign(z=0.0), df[["xa", "fam"]]).fit()
    msg = "singular matrix in the corrected covariance: Singular matrix"
    assert zero.status == "failed" and zero.stage1 == {}
    assert zero.continuous.status_message == zero.binary.status_message == msg
    assert list(zero.continuous.params.index) == ["y2", "xa", "food", "z", "const"]
    assert list(zero.binary.params.index) == ["y1", "xa", "fam", "const"] and zero.nobs == len(df)
    # a nearly duplicated instrument: the stage-1 probit Hessian is singular to 1e-12
    near = df.assign(fam2=df["fam"] + 1e-8 * np.random.default_rng(0).normal(size=len(df)))
    res = TwoStageProbitLS(near["y1"], near["y2"], near[["xa", "food"]], near[["xa", "fam", "fam2"]]).fit()
    assert res.continuous.status == res.binary.status == "singular_hessian"
    assert res.continuous.status_message.startswith("stage-1 probit: negative Hessian not positive definite")


def test_unnamed_inputs_get_default_names_and_arguments_are_named_in_errors():
    df = _draw(7, 200)
    res = TwoStageProbitLS(df["y1"].to_numpy(), df["y2"].to_numpy(), df[["xa", "food"]].to_numpy(),
                           df[["fam"]].to_numpy()).fit()
    assert list(res.continuous.params.index) == ["y2", "x1_1", "x1_2", "const"]
    assert list(res.binary.params.index) == ["y1", "x2_1", "const"]
    assert list(res.continuous.naive_bse.index) == ["y2", "x1_1", "x1_2", "const"]
    assert list(res.stage1["pi_continuous"].index) == ["x1_1", "x1_2", "x2_1", "const"]
    two = pd.DataFrame({"a": df["y1"], "b": df["y1"]})
    cases = [
        ((two, df["y2"], df[["xa", "food"]], df[["fam"]]), "endog_continuous must be one column, got 2"),
        ((df["y1"], two, df[["xa", "food"]], df[["fam"]]), "endog_binary must be one column, got 2"),
        ((df["y1"], df["y2"], df[["xa"]].assign(s="a"), df[["fam"]]), "exog_continuous column 's' must be numeric"),
        ((df["y1"], df["y2"], df[["xa"]], df[["fam"]].assign(s="a")), "exog_binary column 's' must be numeric"),
        ((df["y1"], df["y2"], df[["xa"]].assign(const=1.0), df[["fam"]]), "exog_continuous column 'const' looks"),
    ]
    for args, start in cases:
        with pytest.raises(UserInputError) as err:
            TwoStageProbitLS(*args)
        assert str(err.value).startswith(start), str(err.value)
    with pytest.raises(UserInputError) as err:
        TwoStageProbitLS(df["y1"], df["y2"].rename("y1"), df[["xa", "food"]], df[["fam"]])
    assert err.value.key == "y1"
    with pytest.raises(UserInputError, match="missing='raise'"):
        TwoStageProbitLS(df["y1"].where(df.index != 0), df["y2"], df[["xa", "food"]], df[["fam"]],
                         missing="raise")


def _cut_probit_fit(monkeypatch, which: int) -> None:
    """Stop the ``which``-th probit Newton fit (1: stage 1, 2: stage 2) after one iteration."""
    import sim_refugee.estimators.probit as probit_mod

    newton, calls = probit_mod.newton_maximize, []

    def short(f, x0, **kw):
        calls.append(1)
        return newton(f, x0, **({**kw, "maxiter": 1} if len(calls) == which else kw))

    monkeypatch.setattr(probit_mod, "newton_maximize", short)


def test_second_stage_alone_stopped_early(monkeypatch):
    _cut_probit_fit(monkeypatch, 2)
    res = _model(_draw(8)).fit()
    assert (res.continuous.status, res.continuous.converged) == ("ok", True)
    assert (res.binary.status, res.binary.converged) == ("not_converged", False)
    assert res.binary.status_message == "stage-2 probit: iteration limit reached"


def test_identification_messages_and_keys_exactly():
    df = _draw(9, 50)
    cases = [
        ((df["y1"], df["y2"], df[["xa", "food"]], df[["xa"]]), "exog_binary",
         "continuous equation not identified: exog_binary has no column outside exog_continuous"),
        ((df["y1"], df["y2"], df[["xa"]], df[["xa", "fam"]]), "exog_continuous",
         "binary equation not identified: exog_continuous has no column outside exog_binary"),
        ((df["y1"], df["y2"] * 2, df[["xa", "food"]], df[["fam"]]), "y2", "endog_binary 'y2' must be 0/1"),
        ((df["y1"], df["y2"], df[["xa", "food"]], df[["fam"]].assign(xa=df["food"])), "xa",
         "column 'xa' differs between exog_continuous and exog_binary"),
        ((df["y1"], df["y2"], df[["xa", "food"]], df[["fam", "y2"]]), "y2",
         "endogenous variable 'y2' also appears among the exog columns"),
    ]
    for args, key, msg in cases:
        with pytest.raises(UserInputError) as err:
            TwoStageProbitLS(*args)
        assert (str(err.value), err.value.key) == (msg, key)
    res = _model(df.iloc[:4]).fit()
    assert res.binary.status_message == "too few observations (4) or no variation in 'y2'"


def test_first_stage_stopped_early_and_singular_together(monkeypatch):
    _cut_probit_fit(monkeypatch, 1)
    df = _draw(6)
    near = df.assign(fam2=df["fam"] + 1e-8 * np.random.default_rng(0).normal(size=len(df)))
    res = TwoStageProbitLS(near["y1"], near["y2"], near[["xa", "food"]], near[["xa", "fam", "fam2"]]).fit()
    assert res.continuous.status == "not_converged"  # the worse of the two
    assert res.continuous.status_message.startswith("stage-1 probit: negative Hessian")


@pytest.mark.parametrize("column", ["food", "fam"])
def test_a_perfectly_separated_probit_stage_is_not_ok(column):
    """y2 = 1{column > 0}: the stage-1 probit on all exogenous columns is separated (its
    MLE does not exist), so neither equation may report 'ok'. Stage 2 is separated too:
    its regressors span the separating column (directly for 'fam', recoded to -1/1;
    through the predicted y1, whose only excluded column is 'food', otherwise)."""
    df = _draw(3)
    df["fam"] = 2 * df["fam"] - 1
    df["y2"] = (df[column] > 0).astype(float)
    res = _model(df).fit()
    assert res.continuous.status == res.binary.status == res.status == "not_converged"
    assert not res.continuous.converged and not res.binary.converged
    assert res.continuous.status_message == "stage-1 probit: perfect separation: the MLE does not exist"
    stage2 = "; stage-2 probit: perfect separation: the MLE does not exist"
    assert res.binary.status_message == res.continuous.status_message + stage2


def test_an_unseparated_sample_stays_ok():
    res = _model(_draw(3)).fit()
    assert res.status == "ok" and res.continuous.converged and res.binary.converged
