"""Evaluating units: characterisation (error metrics), synthesis (cost), the results
database that caches both, and the hooks that put a unit's model in place of a float op."""
