"""Documents assembled from evaluations: the demo report, the cost tables and the
multiplier front of docs/cost.md, the softmax and exp tables of docs/units/."""
