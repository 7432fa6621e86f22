"""Moved to ``sim_refugee.search.rootfind`` (shared by the tipping solver and the planner);
this name is an alias of that module, so old imports keep working."""

import sys

from sim_refugee.search import rootfind as _shared

sys.modules[__name__] = _shared
