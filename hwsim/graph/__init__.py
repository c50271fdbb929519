"""ONNX models through hwsim units (``hwsim run``).

* :mod:`hwsim.graph.ops`: the product ops (MatMul, Gemm, Conv) with a unit's product;
* :mod:`hwsim.graph.model`: loading and checking a model, running it in ONNX Runtime
  sessions between the nodes on units;
* :mod:`hwsim.graph.assign`: which nodes run on which unit, and their operand formats;
* :mod:`hwsim.graph.evaluate`: the run against ONNX Runtime, metrics, attribution, report.

Needs the ``ml`` extra (``onnx``, ``onnxruntime``); importing this package imports neither.
"""
