"""Stochastic root finding with Monte Carlo error control, shared by the selection
tipping point (``tipping``) and the survey planner (``plan``).

``rootfind``: the engine-free root finder for a monotone Bernoulli share (``solve``,
``RootSearch``, ``run_searches``, spaces, ``SolverSettings``); ``targets``: what is
counted (a claim, a term's rejection, a term's miss of the census value, a term's error);
``rmse``: the root finder for a decreasing RMSE (the planner's RMSE targets);
``probes``: the evaluator that runs a search's requests on the engine's backends.
"""
