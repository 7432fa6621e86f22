"""World ensembles: many worlds that agree with the paper's evidence (issue 12).

``spec``: the ``[world.ensemble]`` declaration and its space-filling design;
``calibrate``: each world re-solved to the paper's tables before it is sampled;
``summary``: claims and coverage as distributions across worlds, with the between-world
variance separated from the Monte Carlo variance and a regression metamodel of which
unknowns drive them.
"""
