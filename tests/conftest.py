"""Project-wide test configuration: pytester drives the pytest plugin's own tests.

(The sim_refugee plugin itself, with keyed_seed, keyed_rng and recovery_reps, is loaded
through its ``pytest11`` entry point, as in any project that installs sim_refugee.)
"""

pytest_plugins = ["pytester"]
