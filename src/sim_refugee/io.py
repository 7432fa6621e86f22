"""Atomic file output: write to a temporary file in the same folder, then rename.

A reader (or a resumed run) therefore sees either the complete old file, the
complete new file, or nothing; never a half-written one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sim_refugee.validation import inside


def _netcdf_engine() -> str:
    """h5netcdf (netCDF-4) when h5py is installed, else scipy (netCDF-3) as a fallback.

    h5netcdf needs h5py but does not depend on it by default (``h5netcdf[h5py]``); the
    fallback keeps runs working where only the plain dependencies are installed.
    """
    try:
        import h5py  # noqa: F401
    except ImportError:
        return "scipy"
    return "h5netcdf"


#: The xarray engine every netCDF file of the project is written and read with (the
#: engine's results, diagnoses, reports): one shared choice, here beside the atomic writes.
NETCDF_ENGINE = _netcdf_engine()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    On any exception the temporary file is removed and ``path`` is untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def read_toml(path: str | os.PathLike, flag: str = "config file") -> dict:
    """Parse a TOML file; UserInputError naming ``flag`` and the file if it is missing,
    unreadable or not valid TOML (with the parser's line and column)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # pragma: no cover - python 3.10
        import tomli as tomllib

    from sim_refugee.errors import UserInputError

    p = Path(path)
    if not p.is_file():
        raise UserInputError(f"{flag} {str(p)!r} does not exist", key=flag)
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserInputError(f"{flag} {str(p)!r} is not valid TOML: {exc}", key=flag) from None


def write_files(out: str | os.PathLike, files: dict[str, str | bytes]) -> dict[str, Path]:
    """Write each named text or bytes atomically into ``out`` (every name must stay
    inside it); returns name -> path. Callers render everything first, so a failure
    while rendering leaves nothing half-written."""
    paths = {}
    for name, data in files.items():
        target = inside(out, name)
        paths[name] = (atomic_write_text(target, data) if isinstance(data, str)
                       else atomic_write_bytes(target, data))
    return paths
