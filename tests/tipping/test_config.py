"""Tipping configs: bad input stops with exit code 2, a message naming the key, and
nothing written; good input resolves to the right directions, spaces and targets."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import pytest

from sim_refugee.cli import main
from sim_refugee.errors import UserInputError
from sim_refugee.io import read_toml
from sim_refugee.tipping.config import validate_tipping
from sim_refugee.tipping.rootfind import GridSpace, IntegerSpace

TOY = Path(__file__).resolve().parents[2] / "experiments" / "tipping_toy.toml"


def raw() -> dict:
    return read_toml(TOY)


def _write(tmp: Path, d: dict) -> Path:
    """A TOML file of ``d`` (tomllib has no writer: a tiny one for these tables)."""
    def val(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + v + '"'
        if isinstance(v, float) and math.isnan(v):
            return "nan"
        if isinstance(v, list):
            return "[" + ", ".join(val(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{ " + ", ".join(f'"{k}" = {val(x)}' for k, x in v.items()) + " }"
        return repr(v)

    lines = []

    def table(prefix: str, t: dict) -> None:
        scalars = {k: v for k, v in t.items() if not isinstance(v, dict)
                   and not (isinstance(v, list) and v and isinstance(v[0], dict))}
        if prefix:
            lines.append(f"[{prefix}]")
        lines.extend(f'"{k}" = {val(v)}' for k, v in scalars.items())
        for k, v in t.items():
            if isinstance(v, dict):
                table(f"{prefix}.{k}" if prefix else k, v)
            elif isinstance(v, list) and v and isinstance(v[0], dict):
                for item in v:
                    lines.append(f"[[{prefix + '.' if prefix else ''}{k}]]")
                    lines.extend(f'"{a}" = {val(b)}' for a, b in item.items())

    table("", d)
    p = tmp / "cfg.toml"
    p.write_text("\n".join(lines) + "\n")
    return p


def _mutate(**edits):
    d = raw()
    for path, value in edits.items():
        cur = d
        parts = path.split("__")
        for p in parts[:-1]:
            cur = cur.setdefault(p, {})
        if value is _DELETE:
            cur.pop(parts[-1], None)
        else:
            cur[parts[-1]] = value
    return d


_DELETE = object()

BAD = [
    # (edits, key the message must name)
    (dict(tipping=_DELETE), "tipping"),
    (dict(experiment__replications=100), "experiment.replications"),
    (dict(experiment__populations=2), "experiment.populations"),
    (dict(grid={"sample.n": [100, 200]}), "grid"),
    (dict(sample__n=[100, 200]), "sample.n"),
    (dict(tipping__direction={"parameter": "designs.biased.strenght", "lower": 0.0,
                              "upper": 0.6}), "designs.biased.strenght"),
    (dict(tipping__direction={"parameter": "biased.strength", "lower": 0.0, "upper": 0.6}),
     "tipping.direction.parameter"),
    (dict(tipping__direction={"parameter": "designs.srs.strength", "lower": 0.0, "upper": 0.6}),
     "tipping.direction.parameter"),
    (dict(tipping__direction={"parameter": "designs.biased.strength", "lower": 0.6,
                              "upper": 0.6}), "tipping.direction"),
    (dict(tipping__direction={"parameter": "designs.biased.strength", "lower": math.nan,
                              "upper": 0.6}), "tipping.direction.lower"),
    (dict(tipping__direction={"parameter": "sample.n", "lower": 50, "upper": 30000}),
     "tipping.direction"),
    (dict(tipping__direction={"parameter": "sample.n", "lower": 50.5, "upper": 300}),
     "tipping.direction.lower"),
    (dict(tipping__direction={"parameters": ["sample.n", "designs.biased.strength"],
                              "origin": [10.0, 0.0], "step": [1.0, 1.0], "lower": 0.0,
                              "upper": 1.0}), "tipping.direction.parameters"),
    (dict(tipping__direction={"parameters": ["world.mean_y"], "origin": [0.0, 1.0],
                              "step": [1.0], "lower": 0.0, "upper": 1.0}),
     "tipping.direction"),
    (dict(tipping__direction={"parameter": "world.sd_y", "lower": -1.0, "upper": 2.0}),
     "world.sd_y"),
    (dict(tipping__targets=[{"term": "mean:z"}]), "tipping.targets.0.term"),
    (dict(tipping__targets=[{"claim": "death_all7"}]), "tipping.targets.0.claim"),
    (dict(tipping__targets=[{"term": "mean:y", "claim": "y_mean_positive"}]),
     "tipping.targets.0"),
    (dict(tipping__targets=[{"term": "mean:y", "level": 0.9}]), "tipping.targets.0"),
    (dict(tipping__targets=[{"term": "mean:y"}, {"term": "mean:y"}]), "tipping.targets.1"),
    (dict(tipping__targets=[]), "tipping.targets"),
    (dict(tipping__solver={"batch": 20.0}), "tipping.solver.batch"),
    (dict(tipping__solver={"batches": 20}), "tipping.solver.batches"),
    (dict(tipping__map={"parameter": "sample.n", "values": [100.5, 200]}),
     "tipping.map.values"),
    (dict(tipping__map={"parameter": "world.sd_y", "values": [1.0, -1.0]}),
     "tipping.map.values"),
    (dict(tipping__map={"parameter": "designs.biased.strength", "values": [0.1, 0.2]}),
     "tipping.map.parameter"),
    (dict(tipping__share=1.5), "tipping.share"),
]


@pytest.mark.parametrize(("edits", "key"), BAD, ids=[b[1] + f"-{i}" for i, b in enumerate(BAD)])
def test_bad_config_exit_2_names_the_key_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], edits: dict, key: str) -> None:
    cfg = _write(tmp_path, _mutate(**edits))
    out = tmp_path / "out"
    assert main(["tipping", str(cfg), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"'{key}" in err, err
    assert not out.exists()


def test_two_designs_need_tipping_design(tmp_path: Path, capsys) -> None:
    d = raw()
    d["designs"] = [{"name": "srs"}, {"name": "biased"}]
    assert main(["tipping", str(_write(tmp_path, d)), "--out", str(tmp_path / "o")]) == 2
    assert "'tipping.design'" in capsys.readouterr().err
    d["tipping"]["design"] = "biased"
    cfg = validate_tipping(d)
    assert cfg.design == "biased" and cfg.experiment.designs == ("biased",)


def test_out_must_be_empty_and_is_left_alone(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    assert main(["tipping", str(TOY), "--out", str(out)]) == 2
    assert "not empty; choose another --out" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    (tmp_path / "file").write_text("x")
    assert main(["tipping", str(TOY), "--out", str(tmp_path / "file" / "sub")]) == 2


def test_missing_or_invalid_file(tmp_path: Path, capsys) -> None:
    assert main(["tipping", str(tmp_path / "none.toml")]) == 2
    assert "config file" in capsys.readouterr().err
    (tmp_path / "bad.toml").write_text("[tipping\n")
    assert main(["tipping", str(tmp_path / "bad.toml")]) == 2


def test_single_parameter_resolution() -> None:
    cfg = validate_tipping(raw())
    assert isinstance(cfg.space, GridSpace) and cfg.space.size == 2**10
    assert cfg.direction.label == "designs.biased.strength" and not cfg.direction.is_ray
    c = cfg.condition(0, 512)
    assert c.design_params["biased"]["strength"] == pytest.approx(0.3)
    assert c.n == 100 and c.world["size"] == 20000
    assert [t.label for t in cfg.targets] == ["term:mean:y"]
    assert cfg.targets[0].threshold == 0.5


def test_integer_parameter_gets_an_integer_space() -> None:
    d = raw()
    d["tipping"]["direction"] = {"parameter": "sample.n", "lower": 20, "upper": 2000}
    cfg = validate_tipping(d)
    assert isinstance(cfg.space, IntegerSpace)
    assert cfg.condition(0, 5).n == 25
    assert cfg.direction.point(25.0) == {"sample.n": 25}
    d["tipping"]["direction"] = {"parameter": "world.size", "lower": 1000, "upper": 30000}
    assert isinstance(validate_tipping(d).space, IntegerSpace)


def test_log_ray_points_and_defaults() -> None:
    d = raw()
    d["tipping"]["direction"] = {
        "parameters": ["world.sd_y", "designs.biased.strength"], "origin": [1.0, 0.1],
        "step": [math.log(4.5), math.log(0.22)], "scale": "log", "lower": 0.0, "upper": 2.0}
    d["tipping"]["targets"] = [{"coverage": "mean:y"}, {"term": "mean:y", "sign": "negative",
                                                         "share": 0.8}]
    cfg = validate_tipping(d)
    assert cfg.direction.label == "ray:sd_y+strength" and cfg.direction.is_ray
    pt = cfg.direction.point(1.0)
    assert pt["world.sd_y"] == pytest.approx(4.5) and pt["designs.biased.strength"] == pytest.approx(0.022)
    c = cfg.condition(0, cfg.space.size)  # t = 2
    assert c.world["sd_y"] == pytest.approx(4.5**2)
    cov, neg = cfg.targets
    assert cov.label == "coverage:mean:y" and cov.threshold == pytest.approx(0.1)  # 1 - 0.9
    assert neg.label == "term:mean:y (negative)" and neg.sign == -1 and neg.threshold == 0.8


def test_validation_does_not_change_the_input() -> None:
    d = raw()
    before = copy.deepcopy(d)
    validate_tipping(d)
    assert d == before


def test_user_input_error_is_raised_from_python_too() -> None:
    d = raw()
    d["tipping"]["targets"] = [{"coverage": "ols:x"}]
    with pytest.raises(UserInputError) as exc:
        validate_tipping(d)
    assert exc.value.key == "tipping.targets.0.coverage"
