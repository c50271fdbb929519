import os
import sys

# Let tests import the scalar reference implementations beside them.
sys.path.insert(0, os.path.dirname(__file__))
