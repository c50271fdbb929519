"""``hwsim explore``: the cheapest per-group hardware that keeps a model's accuracy.

config (the TOML file) -> cost (units priced by synthesis) -> search (sampling, random,
greedy over per-group unit choices) -> run (evaluations through the sweep engine, outputs).
See docs/explore.md.
"""

from hwsim.explore.config import ExploreConfig, ExploreError, load_config, parse_config

__all__ = ["ExploreConfig", "ExploreError", "load_config", "parse_config"]
