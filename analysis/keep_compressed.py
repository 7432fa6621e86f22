"""Copy a run's results.nc into a results folder, zlib-compressed (the same values,
checked after writing, in less space).

    python3 analysis/keep_compressed.py RUN_DIR KEEP_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import xarray as xr

from sim_refugee.io import atomic_path


def compress_netcdf(src: Path, dst: Path) -> None:
    """Rewrite ``src`` to ``dst`` with zlib level 6 on every variable (values unchanged)."""
    with xr.open_dataset(src, engine="h5netcdf") as ds:
        ds = ds.load()
    enc = {v: {"zlib": True, "complevel": 6} for v in ds.data_vars
           if ds[v].dtype.kind in "fiub"}
    with atomic_path(dst) as tmp:
        ds.to_netcdf(tmp, engine="h5netcdf", encoding=enc)
    with xr.open_dataset(dst, engine="h5netcdf") as back:
        for v in ds.data_vars:
            a, b = ds[v].values, back[v].values
            same = (np.array_equal(a, b, equal_nan=True) if a.dtype.kind == "f"
                    else np.array_equal(a, b))
            if not same:
                raise RuntimeError(f"{dst}: variable {v} changed on compression")


def main(run: str, keep: str) -> None:
    run_p, keep_p = Path(run), Path(keep)
    keep_p.mkdir(parents=True, exist_ok=True)
    compress_netcdf(run_p / "results.nc", keep_p / "results.nc")


if __name__ == "__main__":
    main(*sys.argv[1:3])
