"""Keyed random streams: every draw comes from a SeedSequence named by what it belongs to.

A stream is identified by the root seed and a key such as
``("population", 0)`` or ``("sample", 0, "cond-3", 17)``. String parts are hashed with
BLAKE2b (stable across processes and Python versions, unlike ``hash``), integers are
used as they are. The same key always gives the same stream, whatever process,
backend or order computes it; different keys give independent streams.
"""

from __future__ import annotations

import hashlib

import numpy as np

KeyPart = int | str


def _key_word(part: KeyPart) -> int:
    if isinstance(part, (bool, np.bool_)):
        raise TypeError("seed key parts must be int or str, not bool")
    if isinstance(part, (int, np.integer)):
        if part < 0:
            raise ValueError(f"seed key integers must be non-negative, got {part}")
        return int(part)
    if isinstance(part, str):
        digest = hashlib.blake2b(part.encode("utf-8"), digest_size=8).digest()
        return int.from_bytes(digest, "little")
    raise TypeError(f"seed key parts must be int or str, got {type(part).__name__}")


def seed_sequence(root: int, *key: KeyPart) -> np.random.SeedSequence:
    """The SeedSequence for stream ``key`` under root seed ``root``."""
    if isinstance(root, (bool, np.bool_)) or not isinstance(root, (int, np.integer)) or root < 0:
        from sim_refugee.errors import UserInputError

        raise UserInputError(f"root seed must be a non-negative integer, got {root!r}",
                             key="seed")
    return np.random.SeedSequence(entropy=int(root), spawn_key=tuple(_key_word(k) for k in key))


def rng_for(root: int, *key: KeyPart) -> np.random.Generator:
    """A fresh ``numpy.random.Generator`` (PCG64) for stream ``key`` under ``root``."""
    return np.random.Generator(np.random.PCG64(seed_sequence(root, *key)))


def child_rng(seq: np.random.SeedSequence, *key: KeyPart) -> np.random.Generator:
    """A Generator for sub-stream ``key`` of an existing SeedSequence (no shared state)."""
    sub = np.random.SeedSequence(
        entropy=seq.entropy, spawn_key=tuple(seq.spawn_key) + tuple(_key_word(k) for k in key)
    )
    return np.random.Generator(np.random.PCG64(sub))
