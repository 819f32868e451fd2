"""Checks for the exercises of notebook 00 (overview)."""
import torch
import torch.nn as nn

from . import exercise, expect, passed
from ..measure import flop_counter
from ..models.vgg import VGG

CONV_SHAPES = [(3, 64, 3), (1, 6, 5), (64, 128, 1), (17, 5, 7)]


@exercise
def check_conv_params(conv_params):
    """``conv_params(c_in, c_out, k)`` must equal the parameters of ``nn.Conv2d(c_in, c_out, k)``."""
    for c_in, c_out, k in CONV_SHAPES:
        want = sum(p.numel() for p in nn.Conv2d(c_in, c_out, k).parameters())
        got = conv_params(c_in, c_out, k)
        expect(got == want, f"conv_params({c_in}, {c_out}, {k}) returned {got}; nn.Conv2d has {want} "
                            "parameters (did you count the bias, one per output channel?)")
    passed(f"conv_params agrees with nn.Conv2d on {len(CONV_SHAPES)} shapes")


@exercise
def check_conv_macs(conv_macs):
    """``conv_macs(c_in, c_out, k, out_side)`` must equal FlopCounterMode's count / 2 (padding keeps sides)."""
    for c_in, c_out, k in CONV_SHAPES:
        side = 12
        layer = nn.Conv2d(c_in, c_out, k, padding=k // 2)
        flops, _ = flop_counter(layer, (c_in, side, side))
        got = conv_macs(c_in, c_out, k, side)
        expect(got == flops // 2, f"conv_macs({c_in}, {c_out}, {k}, {side}) returned {got}; "
                                  f"FlopCounterMode counts {flops // 2} MACs")
    passed("conv_macs agrees with torch.utils.flop_counter")


@exercise
def check_fc_share(fc_share):
    """``fc_share(model)`` must return the fraction of parameters in nn.Linear layers."""
    for cfg, width in (("A", 0.5), ("E", 0.25)):
        model = VGG(cfg, width=width, input_size=32, num_classes=10, hidden=128)
        linear = sum(p.numel() for m in model.modules() if isinstance(m, nn.Linear) for p in m.parameters())
        want = linear / sum(p.numel() for p in model.parameters())
        got = float(fc_share(model))
        expect(abs(got - want) < 1e-9, f"fc_share on VGG-{cfg} (width {width}) returned {got:.4f}, expected "
                                       f"{want:.4f}: count parameters of nn.Linear modules over all parameters")
    expect(torch.is_grad_enabled(), "fc_share must not switch off autograd")
    passed("fc_share is right on two VGG configurations it had not seen")
