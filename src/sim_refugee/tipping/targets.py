"""Moved to ``sim_refugee.search.targets`` (shared by the tipping solver and the planner);
this name is an alias of that module, so old imports keep working."""

import sys

from sim_refugee.search import targets as _shared

sys.modules[__name__] = _shared
