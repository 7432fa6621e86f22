"""sim_refugee: simulation-based diagnosis of the 2004-05 North Korean refugee survey.

The package is laid out as the four declared parts of a design diagnosis
(world, inquiry, data strategy, answer strategy) plus the engine that repeats them:

- ``targets``    what the paper documents, and the named assumptions beside it
- ``world``      the synthetic population generator and its calibration
- ``designs``    sampling designs (the paper's and the alternatives), artefacts, weighting
- ``estimators`` SNP ordered probit, 2SPLS, probit, descriptive tables
- ``suite``      the paper's whole analysis on one sample (and on the census: the inquiry)
- ``claims``     the paper's conclusions as predicates on a suite result
- ``engine``     experiment configs, seeds, backends, storage, resume
- ``diagnosis``  bias, RMSE, coverage, power, claim reproduction, with MC errors
- ``report``     figures and the Markdown report
"""

__version__ = "0.1.0"
