"""explore prints its floor at the precision it was given (a cosine floor of 0.99999999
printed as 1 read as unreachable) and a computed floor as it prints metrics."""

import pytest

from hwsim.explore.config import Constraint
from hwsim.explore.run import floor_value


@pytest.mark.parametrize("key,v,text", [
    ("cosine", 0.99999999, "0.99999999"),
    ("cosine", 0.999, "0.999"),
    ("cosine", 1.0 - 0.001, "0.999"),
    ("spearman", 0.9169143576826197, "0.916914"),     # computed: as metrics print
    ("accuracy", 0.9, "90.000 %"),
    ("accuracy", 0.9169143576826197, "91.691 %"),
    ("cosine", float("nan"), "undefined"),
])
def test_floor_value(key, v, text):
    assert floor_value(key, v) == text


def test_constraint_text_keeps_the_given_digits():
    c = Constraint(metric="cosine", output=None, min=0.99999999, max_drop=None)
    assert c.describe() == "cosine >= 0.99999999"
    assert Constraint("accuracy", None, None, 0.25).describe() == "accuracy >= float - 0.25 points"
