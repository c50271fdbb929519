"""The exact multiplier's component against its model in Amaranth's simulator."""

import pytest

from hwsim.exact_mul import ExactMulParams
from hwsim.sim.amaranth_sim import simulate
from hwsim.units import get_unit

EXACT = get_unit("exact-mul")


@pytest.mark.parametrize("params", [ExactMulParams(width=5), ExactMulParams(width=5, signed=True),
                                    ExactMulParams(width=4, signed=True, stages=2)],
                         ids=lambda p: p.top_name)
def test_component_equals_the_model_in_amaranths_simulator(params):
    vec = EXACT.vectors(params, None, 0)
    got = simulate(EXACT.component(params), vec, stall_seed=1 if params.stages else None)
    want = EXACT.model(params, vec)["p"]
    assert len(want) == 4 ** params.width
    assert [int(x) for x in got["p"]] == [int(x) for x in want]
