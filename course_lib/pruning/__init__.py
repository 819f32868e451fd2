"""Structured pruning: criteria score units, a plan keeps some, the surgery removes the rest.

Vocabulary, used the same way in every module and notebook:

- *unit*: one output filter of a ``Conv2d`` or one output neuron of a ``Linear``;
- *ratio*: the fraction of a layer's units REMOVED (0.3 = 30 % removed);
- *density*: the fraction KEPT (1 - ratio; for weights, the fraction of non-zeros);
- *plan*: ``{layer name: sorted indices of the units to KEEP}``;
- *group*: a layer with everything coupled to its units (:func:`.surgery.dependencies`);
- *tap*: where a unit's output is read, :data:`.activations.TAPS`.

The currency between the pieces:

- :func:`.activations.record` reads what the units produce on data (and the gradient there),
  for the data-driven criteria;
- a *criterion* returns ``{layer name: 1-D tensor of scores, one per output unit}`` (higher =
  more important), see :mod:`.criteria`;
- a *selection* turns scores into a *plan* ``{layer name: sorted indices of the units to KEEP}``,
  see :mod:`.plan`;
- the *surgery* applies a plan and returns a genuinely smaller network, see :mod:`.surgery`;
- :mod:`.sensitivity` prunes one layer at a time to choose per-layer ratios (Li et al. 2016);
- :func:`.loop.one_shot` prunes once (select -> surgery -> BatchNorm re-estimated);
  :func:`.loop.prune_iteratively` repeats score -> select -> surgery -> fine-tune -> measure;
- :mod:`.thinet` prunes layer by layer by how well the next layer is reconstructed (ThiNet);
- :func:`.batchnorm.recalibrate_bn` re-estimates BatchNorm statistics after surgery;
- :mod:`.report` tabulates sizes and measured latency before and after, :mod:`.figures` draws.
"""
from .activations import TAPS, record
from .batchnorm import recalibrate_bn
from .loop import history_row, one_shot, prune_iteratively
from .criteria import (CRITERIA, aaws, agreement, bn_scale, feature_map_ranks, filter_norms, hrank, l1_norm, l2_norm,
                       mean_activation, nonzero_fraction, oracle_loss_change, random_scores, std_activation, taylor,
                       win_fraction)
from .figures import plot_coupling, plot_sensitivity
from .plan import (NORMALISATIONS, n_keep, normalised, plan_global, plan_largest, plan_random, plan_smallest, plan_table,
                   unit_flops)
from .report import compare, latency_table, size_table
from .sensitivity import choose_ratios, greedy_ratios, layer_sensitivity
from .surgery import PRUNABLE, Chain, dependencies, mask_outgoing, prune, prune_, replace_module, trace
from .thinet import contributions, greedy_removal, rescale_weights, scale_inputs_, thinet_prune
