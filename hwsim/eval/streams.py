"""Operand streams for energy per operation: ``uniform``, ``small`` (seeded) or a file.

* ``uniform``: each operand drawn uniformly over the unit's operand codes (what every
  published power figure assumes);
* ``small``: log-uniform magnitudes, as network data is (most values near zero, a few large):
  magnitude ``floor(2 ** (u * B))`` for ``u`` uniform in [0, 1), ``B`` the magnitude bits
  (the width, or width - 1 for signed operands, whose sign is then drawn fair), capped at the
  largest code;
* ``FILE.npz``: arrays ``a`` and ``b`` (one per operand port) of operand codes, one entry per
  operation, in the order the hardware sees them (toggles are counted between consecutive
  operations).

``uniform`` draws each operand port's codes over ``params.in_range``; ``small`` needs
integer operands (Params with a ``width`` field); a file works for any unit with scalar
operand ports, one array per port, its values checked by the unit's own model (whose
one-line error names the rule and the value).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

STREAMS = ("uniform", "small")
#: the longest stream simulated (operations)
MAX_OPERATIONS = 10_000_000


def _int_operands(spec, params, kind: str) -> None:
    """``small`` draws magnitudes: the operands must be integers of a ``width`` field (float
    units' codes are bit patterns, whose magnitude as an integer means nothing)."""
    import dataclasses
    if "width" not in {f.name for f in dataclasses.fields(params)}:
        raise ValueError(f"--stream {kind}: {spec.name}'s operands are not integers of a width "
                         f"field; give --stream uniform or FILE.npz with its operand codes")


def generate(spec, params, kind: str, count: int, seed: int) -> dict[str, np.ndarray]:
    """``count`` seeded operations of stream ``kind`` (``uniform`` / ``small``): one int64
    array per operand port (``spec.operands``), codes in ``params.in_range``."""
    if kind not in STREAMS:
        raise ValueError(f"--stream must be one of {', '.join(STREAMS)} or a .npz file, "
                         f"not {kind!r}")
    if not spec.operands:
        raise ValueError(f"--stream {kind}: {spec.name} has no scalar operand ports to stream")
    if kind == "small":
        _int_operands(spec, params, kind)
    rng = np.random.default_rng(seed)
    lo, hi = params.in_range
    out = {}
    for port in spec.operands:
        if kind == "uniform":
            out[port] = rng.integers(lo, hi, count, dtype=np.int64)
        else:
            signed = lo < 0
            bits = (hi - 1).bit_length()
            mag = np.minimum(np.floor(np.exp2(rng.random(count) * bits)).astype(np.int64),
                             hi - 1)
            if signed:
                mag = np.where(rng.random(count) < 0.5, -mag, mag)
            out[port] = mag
    return out


def load(spec, params, path) -> dict[str, np.ndarray]:
    """The operands in ``path`` (``.npz``): one 1-D integer array per operand port, all of
    one length >= 2, every value accepted by the unit's model. One-line ``ValueError``
    otherwise."""
    p = Path(path)
    owner = f"--stream {str(path)!r}"
    if str(path) and p.is_dir():
        raise ValueError(f"{owner}: is a directory (give uniform, small or a .npz file)")
    if not str(path) or not p.is_file():
        raise ValueError(f"{owner}: no such file (give uniform, small or a .npz file)")
    if not zipfile.is_zipfile(p):  # np.load would read it as .npy, or as a pickle and say so
        try:
            with open(p, "rb") as f:
                npy = f.read(6) == b"\x93NUMPY"
        except OSError as e:
            raise ValueError(f"{owner}: {e.strerror or e}") from None
        raise ValueError(f"{owner}: is a .npy file (one array); give a .npz file with arrays "
                         f"{', '.join(spec.operands)}" if npy else
                         f"{owner}: not a .npz file (no zip archive)")
    try:
        with np.load(p, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise ValueError(f"{owner}: not a readable .npz file ({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
    for k, v in arrays.items():  # a member without the .npy header comes back as bytes
        if not isinstance(v, np.ndarray):
            raise ValueError(f"{owner}: member {k} is not a .npy array")
    ports = spec.operands
    if not ports:
        raise ValueError(f"{owner}: {spec.name} has no scalar operand ports to stream")
    missing = [k for k in ports if k not in arrays]
    if missing:
        raise ValueError(f"{owner}: needs arrays {', '.join(ports)} (operand codes of "
                         f"{spec.name}); missing {', '.join(missing)}")
    out, n = {}, None
    for k in ports:
        v = arrays[k]
        if v.dtype.kind not in "iu":
            raise ValueError(f"{owner}: array {k} must hold integer operand codes, not {v.dtype}")
        if v.ndim != 1:
            raise ValueError(f"{owner}: array {k} must be one-dimensional, not shape {v.shape}")
        if n is not None and v.size != n:
            raise ValueError(f"{owner}: arrays must have one length; {k} has {v.size}, not {n}")
        n = v.size
        if v.dtype == np.uint64 and v.size and int(v.max()) >= 1 << 63:
            raise ValueError(f"{owner}: array {k} has values of 2**63 or more "
                             f"(first: {int(v[v >= 1 << 63][0])})")
        out[k] = v.astype(np.int64)
    if n < 2 or n > MAX_OPERATIONS:
        raise ValueError(f"{owner}: needs 2..{MAX_OPERATIONS:,} operations, not {n:,}")
    try:
        spec.model(params, dict(out))
    except (TypeError, ValueError) as e:
        raise ValueError(f"{owner}: {str(e).splitlines()[0]}") from None
    return out


def operand_stream(spec, params, stream: str, count: int, seed: int) -> dict:
    """``{"name", "seed", "operands"}`` for :func:`hwsim.eval.stdcell.cell_cost`: a generated
    stream (``uniform`` / ``small``) or the file ``stream`` names."""
    if stream in STREAMS:
        return {"name": stream, "seed": seed,
                "operands": generate(spec, params, stream, count, seed)}
    return {"name": str(stream), "seed": None, "operands": load(spec, params, stream)}
