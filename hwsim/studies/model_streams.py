"""Operand streams captured from the built-in models: ``--stream digits`` / ``--stream minilm``.

The model runs once with every matrix product on the unit (a matmul hook: the unit's
:class:`hwsim.eval.hooks.FixedMatmul` for a product unit, or any hook a caller gives, e.g.
a :class:`hwsim.eval.hooks.FloatMatmul`), with an :class:`hwsim.eval.capture.OperandCapture`
active: the operand codes its ports see, pooled over the model's products (each product
equally likely) and subsampled to ``count`` pairs with ``seed``.

* ``digits``: the digits MLP of ``hwsim study digits-mlp`` (64 -> 32 ReLU -> 10, trained
  with seed 0 for :data:`DIGITS_EPOCHS` epochs), both layers, on its 360 test digits; the
  operands block floating point per row (``FixedMatmul``);
* ``minilm``: all-MiniLM-L6-v2 (``hwsim.studies.minilm``) on the first
  :data:`MINILM_SENTENCES` sentences of the built-in corpus: every dense layer and both
  attention products.

Captures are cached in hwsim's user cache (``streams/``), keyed by the model, the hook's
unit and parameters, ``count``, ``seed`` and :data:`VERSION`.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

MODEL_STREAMS = ("digits", "minilm")
VERSION = 1
MINILM_SENTENCES = 4
DIGITS_EPOCHS = 30


def _run_digits(hook) -> None:
    from hwsim.studies import mlp
    from hwsim.studies.digits_mlp import train_float
    w = train_float(0, 32, DIGITS_EPOCHS)
    x_test = mlp.dataset(0)[2]
    mlp.forward(w, x_test, matmul=hook)


def _run_minilm(hook) -> None:
    from hwsim.studies.minilm import Arithmetic, MiniLM
    from hwsim.studies.sentences import builtin_corpus
    MiniLM(max_tokens=64).encode(builtin_corpus()[:MINILM_SENTENCES],
                                 arithmetic=Arithmetic(linear=hook, attention_products=hook))


def capture_model(name: str, hook, count: int, seed: int) -> dict:
    """``{"a", "b", "operations"}``: ``count`` operand pairs (seeded) of the products
    ``hook`` computes while model ``name`` runs."""
    from hwsim.eval.capture import OperandCapture
    if name not in MODEL_STREAMS:
        raise ValueError(f"model stream must be one of {', '.join(MODEL_STREAMS)}, not {name!r}")
    cap = OperandCapture(count, seed)
    with cap.under(name):
        (_run_digits if name == "digits" else _run_minilm)(hook)
    if name not in cap.nodes:
        raise ValueError(f"model stream {name}: the hook computed no unit products")
    z = cap.arrays(name)
    return {"a": z["a"], "b": z["b"], "operations": int(z["operations"])}


def cached_capture(name: str, hook, key: dict, count: int, seed: int) -> dict:
    """:func:`capture_model`, cached under ``key`` (what identifies the hook's arithmetic)."""
    from hwsim.paths import atomic_writer, cache_dir
    k = json.dumps({"model": name, "hook": key, "count": count, "seed": seed,
                    "version": VERSION, "minilm_sentences": MINILM_SENTENCES,
                    "digits_epochs": DIGITS_EPOCHS}, sort_keys=True)
    path = cache_dir() / "streams" / f"{name}-{hashlib.sha256(k.encode()).hexdigest()[:20]}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as z:
                return {"a": z["a"], "b": z["b"], "operations": int(z["operations"])}
        except (OSError, ValueError, KeyError):
            pass    # a damaged cache entry is made again
    out = capture_model(name, hook, count, seed)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_writer(path, binary=True) as f:
            np.savez(f, a=out["a"], b=out["b"], operations=np.int64(out["operations"]))
    except OSError:
        pass    # no cache: the capture is made again next time
    return out


def unit_stream(spec, params, name: str, count: int, seed: int) -> dict:
    """``{"name", "seed", "operands"}`` (:func:`hwsim.eval.stdcell.cell_cost`'s stream) for
    a product unit (registry ``graph`` trait :class:`hwsim.units.Product`): the model runs on
    the unit at ``params.width`` (the graph's fixed fields, ``signed``, applied) and the codes
    it sees are this stream; an unsigned ``params`` gets their magnitudes (a sign-magnitude
    datapath). One-line ``ValueError`` for a unit without the trait."""
    import dataclasses

    from hwsim.eval.hooks import FixedMatmul
    from hwsim.units import Product, units_with
    if not isinstance(spec.graph, Product):
        raise ValueError(f"--stream {name}: {spec.name} does not compute a model's products "
                         f"(units that do: {', '.join(s.name for s in units_with(Product))}); "
                         f"give uniform, small or a .npz file")
    try:
        run_params = dataclasses.replace(params, **spec.fixed) if spec.fixed else params
        hook = FixedMatmul(run_params)
    except (TypeError, ValueError) as e:
        raise ValueError(f"--stream {name}: {str(e).splitlines()[0]}") from None
    got = cached_capture(name, hook, {"unit": spec.name, "params": run_params.to_dict()},
                         count, seed)
    lo, _ = params.in_range
    ops = {"a": got["a"], "b": got["b"]}
    if lo >= 0:
        ops = {k: np.abs(v) for k, v in ops.items()}
    ports = spec.operands
    return {"name": name, "seed": seed, "operands": dict(zip(ports, (ops["a"], ops["b"]))),
            "operations": got["operations"]}
