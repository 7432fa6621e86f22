"""Errors raised for bad user input; the CLI turns them into exit code 2."""

from __future__ import annotations


class UserInputError(ValueError):
    """Bad input from a user (config key, CLI flag, data column).

    The message must name the offending key or column. ``key`` carries it for
    programmatic use (e.g. ``"world.size"`` or ``"column 'female'"``).
    """

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class MissingColumnError(UserInputError, KeyError):
    """A data frame lacks a column the caller needs."""

    def __init__(self, columns: list[str] | str, where: str = "data") -> None:
        cols = [columns] if isinstance(columns, str) else list(columns)
        msg = f"{where} is missing required column(s): {', '.join(repr(c) for c in cols)}"
        super().__init__(msg, key=cols[0] if cols else None)
        self.columns = cols

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.args[0]


def require_columns(frame, columns, where: str = "data") -> None:
    """Raise MissingColumnError naming every column of ``columns`` absent from ``frame``."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MissingColumnError(missing, where)


def under_key(exc: UserInputError, prefix: str, where: str = "") -> UserInputError:
    """``exc`` re-keyed under ``prefix`` (e.g. a calibration error keyed ``selection``
    becomes ``world.selection``), with the key named in the message if it was not."""
    key = f"{prefix}.{exc.key}" if exc.key and not str(exc.key).startswith(prefix) else (
        exc.key or prefix)
    msg = str(exc)
    if repr(key) in msg or f"{key}:" in msg:
        return exc
    w = f" {where}" if where else ""
    return UserInputError(f"config key {key!r}{w}: {msg}", key=key)
