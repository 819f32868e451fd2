"""The VGG family (Simonyan & Zisserman 2015) in torchvision's layout: ``features`` (convs and
max-pools) -> ``avgpool`` -> ``classifier`` (three fully connected layers).

At width 1, 224x224 input and 3 channels, ``vgg16()`` has exactly the parameters of
``torchvision.models.vgg16`` (138,357,544) and loads its state_dict. ``width`` scales every conv,
``input_size`` the spatial size, so the same topology runs on 32x32 MNIST on a laptop.
"""
import copy

import torch
import torch.nn as nn

from ._checks import check_input, positive_int

# Numbers are conv output channels, "M" a 2x2 max-pool (the paper's configurations A, B, D, E).
CFGS = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
          512, 512, 512, 512, "M"],
}


class VGG(nn.Module):
    """A VGG network: (N, in_channels, H, W) with H, W >= 32 -> logits (N, num_classes).

    cfg: "A" (VGG-11), "B" (13), "D" (16) or "E" (19), or a list of conv widths with five "M"
    (e.g. the widths a pruning plan left, before ``width`` scaling); batch_norm: BatchNorm after every conv;
    width: multiplier of conv channels (> 0); input_size: the side the classifier is sized for,
    a multiple of 32 (the average pool outputs input_size/32 squared); hidden: width of the two
    hidden fully connected layers.
    """

    def __init__(self, cfg="D", batch_norm=False, width=1.0, input_size=224, in_channels=3,
                 num_classes=1000, hidden=4096, dropout=0.5):
        super().__init__()
        if isinstance(cfg, str) and cfg in CFGS:
            cfg = CFGS[cfg]
        elif not (isinstance(cfg, list) and cfg.count("M") == 5 and all(
                v == "M" or (isinstance(v, int) and not isinstance(v, bool) and v > 0) for v in cfg)):
            raise ValueError(f"cfg must be one of {sorted(CFGS)} or a list of conv widths and five 'M' pools, got {cfg!r}")
        if not isinstance(width, (int, float)) or isinstance(width, bool) or width <= 0:
            raise ValueError(f"width must be a positive number, got {width!r}")
        if not isinstance(input_size, int) or input_size < 32 or input_size % 32:
            raise ValueError(f"input_size must be a positive multiple of 32 (five 2x2 pools), got {input_size!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        self.in_channels = positive_int(in_channels, "in_channels")
        layers, channels = [], in_channels
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
                continue
            out = max(1, round(v * width))
            layers.append(nn.Conv2d(channels, out, 3, padding=1))
            layers += [nn.BatchNorm2d(out), nn.ReLU()] if batch_norm else [nn.ReLU()]
            channels = out
        self.features = nn.Sequential(*layers)
        side = input_size // 32
        self.avgpool = nn.AdaptiveAvgPool2d((side, side))
        hidden = positive_int(hidden, "hidden")
        self.classifier = nn.Sequential(
            nn.Linear(channels * side * side, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, positive_int(num_classes, "num_classes")))
        self._init_weights()

    def _init_weights(self):
        # The usual VGG initialisation (He-normal convs, small normal linears), as in torchvision.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        check_input(x, "VGG", channels=self.in_channels, min_size=32)
        x = self.avgpool(self.features(x))
        return self.classifier(x.flatten(1))


def vgg16(**kwargs):
    """VGG-16 (configuration D); keyword arguments as for :class:`VGG`."""
    return VGG("D", **kwargs)


def transfer_head(in_features, hidden=4096, num_classes=2, dropout=0.5):
    """The new classifier of Gildenblat's cats-vs-dogs transfer model (features -> logits):
    Dropout, Linear(in_features, hidden), ReLU, Dropout, Linear(hidden, hidden), ReLU,
    Linear(hidden, num_classes), in PyTorch's default initialisation. For torchvision's
    VGG-16 at 224 px, in_features = 512 * 7 * 7 = 25088."""
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    hidden = positive_int(hidden, "hidden")
    return nn.Sequential(nn.Dropout(dropout), nn.Linear(positive_int(in_features, "in_features"), hidden), nn.ReLU(),
                         nn.Dropout(dropout), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, positive_int(num_classes, "num_classes")))


def imagenet_vgg16(weights="IMAGENET1K_V1"):
    """VGG-16 (torchvision's layout, 224 x 224 RGB, 1000 classes) with torchvision's ImageNet
    weights, which torchvision downloads once and checks against their published hash into
    ``torch.hub.get_dir()``; ``weights=None``: randomly initialised (no download).
    Raises :class:`course_lib.data.MissingDataError` with what to do when the download fails."""
    from torchvision.models import VGG16_Weights

    from ..data import MissingDataError

    model = vgg16()
    if weights is None:
        return model
    if weights not in VGG16_Weights.__members__:
        raise ValueError(f"weights must be None or one of {list(VGG16_Weights.__members__)}, got {weights!r}")
    entry = VGG16_Weights[weights]
    try:
        model.load_state_dict(entry.get_state_dict(progress=False, check_hash=True))
    except (OSError, RuntimeError) as err:
        raise MissingDataError(
            f"The full profile needs torchvision's ImageNet VGG-16 weights ({entry.url}) in "
            f"{torch.hub.get_dir()}/checkpoints, and downloading them failed ({type(err).__name__}: {err}).\n"
            "Connect to the internet once, or copy that file there; or run the quick profile "
            "(unset COURSE_PROFILE), which needs no download.") from None
    return model


def conv_names(model):
    """``{qualified name: "conv<block>_<i>"}`` for the convs of a VGG's ``features``, the paper's
    names (e.g. ``"features.28": "conv5_3"`` in VGG-16): a block ends at each max-pool."""
    if not isinstance(getattr(model, "features", None), nn.Sequential):
        raise TypeError(f"model must be a VGG with a Sequential 'features', got {type(model).__name__}")
    names, block, i = {}, 1, 0
    for index, m in enumerate(model.features):
        if isinstance(m, nn.MaxPool2d):
            block, i = block + 1, 0
        elif isinstance(m, nn.Conv2d):
            i += 1
            names[f"features.{index}"] = f"conv{block}_{i}"
    return names


def with_gap_head(model, num_classes=None):
    """A copy of the VGG ``model`` with ThiNet-GAP's head (Luo et al. 2017): the average pool and
    the three fully connected layers replaced by a global average pool and one linear layer, last
    conv's channels -> ``num_classes`` (default: the old head's outputs), in PyTorch's default
    initialisation: it has to be trained. The convs keep their weights."""
    if not isinstance(model, VGG):
        raise TypeError(f"model must be a course_lib VGG, got {type(model).__name__}")
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    outputs = model.classifier[-1].out_features if num_classes is None else positive_int(num_classes, "num_classes")
    gap = copy.deepcopy(model)
    gap.avgpool = nn.AdaptiveAvgPool2d(1)
    gap.classifier = nn.Sequential(nn.Linear(convs[-1].out_channels, outputs))
    return gap.to(convs[-1].weight.device)
