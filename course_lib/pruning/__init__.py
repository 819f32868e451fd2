"""Structured pruning: criteria score units, a plan keeps some, the surgery removes the rest.

The currency between the pieces:

- a *criterion* returns ``{layer name: 1-D tensor of scores, one per output unit}`` (higher =
  more important), see :mod:`.criteria`;
- a *selection* turns scores into a *plan* ``{layer name: sorted indices of the units to KEEP}``,
  see :mod:`.plan`;
- the *surgery* applies a plan and returns a genuinely smaller network, see :mod:`.surgery`;
- :mod:`.sensitivity` prunes one layer at a time to choose per-layer ratios (Li et al. 2016);
- :func:`.batchnorm.recalibrate_bn` re-estimates BatchNorm statistics after surgery;
- :mod:`.report` tabulates sizes and measured latency before and after, :mod:`.figures` draws.
"""
from .batchnorm import recalibrate_bn
from .criteria import filter_norms, l1_norm, l2_norm, random_scores
from .figures import plot_coupling, plot_sensitivity
from .plan import n_keep, plan_largest, plan_random, plan_smallest, plan_table
from .report import latency_table, size_table
from .sensitivity import choose_ratios, greedy_ratios, layer_sensitivity
from .surgery import dependencies, mask_outgoing, prune, prune_, trace
