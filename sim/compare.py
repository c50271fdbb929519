"""Shared by every RTL check: input bit patterns and exact output comparison with the model.

Simulators see raw bit patterns: inputs are driven as unsigned patterns of the port width
and outputs come back as unsigned patterns, read as two's complement for signed ports.
``ports`` is :func:`hwsim.hdl.export.ports` of the component (name -> dir, width, signed).
"""

from __future__ import annotations

import numpy as np


def input_patterns(vec: dict[str, np.ndarray], ports: dict) -> dict[str, list[int]]:
    """Each input vector as unsigned bit patterns of its port's width."""
    return {k: [int(x) & ((1 << ports[k]["width"]) - 1) for x in v.tolist()]
            for k, v in vec.items()}


def output_ports(ports: dict) -> list[str]:
    """Data outputs (everything driven by the unit except ``out_valid``), in port order."""
    return [k for k, v in ports.items() if v["dir"] == "out" and k != "out_valid"]


def compare_outputs(patterns: dict[str, list[int]], want: dict[str, np.ndarray], ports: dict,
                    vec: dict[str, np.ndarray], max_examples: int = 5) -> tuple[int, list[dict]]:
    """Exact comparison of RTL output patterns with the model.

    Returns the number of vectors on which any output differs and up to ``max_examples``
    of them (inputs, RTL and model values, all as signed/unsigned integers per the ports).
    A pattern that is not an integer (a simulator's text for X or Z bits) differs.
    """
    n = len(next(iter(vec.values())))
    bad = np.zeros(n, bool)
    rtl = {}
    for k, raw in patterns.items():
        g = np.empty(len(raw), dtype=object)
        g[:] = list(raw)
        known = np.array([not isinstance(x, str) for x in raw], bool)
        if ports[k]["signed"]:
            width = ports[k]["width"]
            g[known] = [x - (1 << width) if x >= (1 << (width - 1)) else x for x in g[known]]
        w = np.array([int(x) for x in np.asarray(want[k]).tolist()], dtype=object)
        if g.shape != w.shape:
            raise RuntimeError(f"RTL produced {g.size} values of {k}, expected {w.size}")
        rtl[k] = g
        bad |= ~known
        bad[known] |= g[known] != w[known]
    examples = []
    for idx in np.flatnonzero(bad)[:max_examples]:
        ex = {k: int(v[idx]) for k, v in vec.items()}
        ex |= {f"rtl_{k}": v if isinstance(v := rtl[k][idx], str) else int(v) for k in rtl}
        ex |= {f"model_{k}": int(want[k][idx]) for k in rtl}
        examples.append(ex)
    return int(bad.sum()), examples


def is_stream(ports: dict) -> bool:
    return "i_stream__payload" in ports and "o_stream__payload" in ports


def compare_stream(patterns: list[int], vec_in: np.ndarray, want: np.ndarray, ports: dict,
                   in_name: str = "x", max_examples: int = 5) -> tuple[int, list[dict]]:
    """Exact comparison of a stream unit's output patterns (in order) with the model.

    ``vec_in`` holds one input vector per row, ``want`` the model's output vector per row;
    a row counts as one mismatch if any element differs. Returns the count and examples.
    """
    width = ports["o_stream__payload"]["width"]
    g = np.array(patterns, dtype=np.int64)
    if ports["o_stream__payload"]["signed"]:
        g = np.where(g >= (1 << (width - 1)), g - (1 << width), g)
    n = vec_in.shape[0]
    want = np.asarray(want).reshape(n, -1)
    if g.size != want.size:
        raise RuntimeError(f"RTL produced {g.size} outputs, expected {want.size}")
    rtl = g.reshape(want.shape)
    bad = np.flatnonzero((rtl != want).any(axis=1))
    examples = [{in_name: vec_in[r].tolist(), "rtl": rtl[r].tolist(), "model": want[r].tolist()}
                for r in bad[:max_examples]]
    return int(bad.size), examples
