"""ONNX models through hwsim units (``hwsim run``).

* :mod:`hwsim.graph.ops`: numpy kernels of the ONNX operators (float);
* :mod:`hwsim.graph.model`: loading, checking and interpreting a model node by node;
* :mod:`hwsim.graph.assign`: which nodes run on which unit, and their operand formats;
* :mod:`hwsim.graph.evaluate`: the run against ONNX Runtime, metrics, attribution, report.

Needs the ``ml`` extra (``onnx``, ``onnxruntime``); importing this package imports neither.
"""
