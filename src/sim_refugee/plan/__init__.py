"""The survey planner (issue 16): which design, at what size and cost, reaches the
declared power and coverage targets, robustly over selection scenarios.

``costs``: the cost model per design (defaults are named assumptions); ``config``: an
engine config plus ``[plan]``; ``run``: the searches (the shared ``search.rootfind``),
worst case, check and choice; ``output``: plan.csv, report.md, the cost-against-power
figure. Guide: docs/PLAN.md.
"""
