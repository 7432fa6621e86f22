"""Combined samples: a convenience sample and a probability sample drawn side by side.

They are not single-sample designs: the draw returns two samples stacked (a ``source``
column tells them apart), which the paper suite would wrongly pool as one sample, so
they live outside the design registry (``sim_refugee.designs`` lists only the
package's own modules, not its subpackages) and are imported by path, e.g.
``from sim_refugee.designs.combined.convref import DESIGN``.
"""
