"""LeNet family: the classic LeNet-5 of LeCun et al. (1998), a modern LeNet-5, LeNet-300-100 and
the Caffe LeNet-5 variant used by Deep Compression (Han et al. 2016)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from ._checks import check_input, positive_int

# LeCun et al. 1998, Table I: which S2 maps (rows 0-5) feed each of the 16 C3 maps.
C3_TABLE = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)


class ScaledTanh(nn.Module):
    """LeNet-5's squashing function f(a) = A tanh(S a) with A = 1.7159, S = 2/3."""

    def forward(self, x):
        return 1.7159 * torch.tanh(2.0 / 3.0 * x)


class Subsampling(nn.Module):
    """S2 / S4: each unit adds its 2x2 inputs, multiplies by the map's trainable coefficient and
    adds the map's trainable bias (2 parameters per map). (N, C, H, W) -> (N, C, H/2, W/2)."""

    def __init__(self, channels):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(positive_int(channels, "channels")))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        summed = 4 * F.avg_pool2d(x, 2)
        return summed * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)

    def connections(self, out):
        """Connections per image: every output unit sees 4 inputs and the bias."""
        return out[0].numel() * 5


class PartialConv2d(nn.Module):
    """C3: a 5x5 convolution in which output map j sees only the input maps ``table[j]``.

    One small ``Conv2d`` per output map, so parameters and FLOPs count exactly what the table
    connects (1,516 parameters for LeNet-5's table instead of 2,416 for a full connection).
    """

    is_layer = True  # measure.layer_table shows it as one row, not 16

    def __init__(self, table=C3_TABLE, kernel_size=5):
        super().__init__()
        if not table or not all(len(ins) > 0 for ins in table):
            raise ValueError("table must list, for every output map, a non-empty tuple of input maps")
        self.table = tuple(tuple(ins) for ins in table)
        self.in_channels = max(max(ins) for ins in self.table) + 1
        self.convs = nn.ModuleList(nn.Conv2d(len(ins), 1, kernel_size) for ins in self.table)

    def forward(self, x):
        return torch.cat([conv(x[:, list(ins)]) for conv, ins in zip(self.convs, self.table)], dim=1)

    def connections(self, out):
        """Connections per image: each output unit of map j sees its weights and bias."""
        per_unit = [sum(p.numel() for p in conv.parameters()) for conv in self.convs]
        return sum(per_unit) * out[0, 0].numel()


class RBFOutput(nn.Module):
    """LeNet-5's output layer: Euclidean RBF units y_i = sum_j (x_j - w_ij)^2 with fixed +-1
    prototypes w (a buffer, not trained). Returns -y as logits, shape (N, classes).

    The paper draws its 84 = 7x12 prototypes as stylised character bitmaps; we use a fixed
    random +-1 code (seed 0), which plays the same role for digits.
    """

    def __init__(self, in_features=84, classes=10):
        super().__init__()
        code = torch.randint(0, 2, (classes, in_features), generator=torch.Generator().manual_seed(0))
        self.register_buffer("prototypes", code.float() * 2 - 1)

    def forward(self, x):
        return -((x.unsqueeze(1) - self.prototypes) ** 2).sum(dim=2)

    def connections(self, out):
        return self.prototypes.numel()


class LeNet5Classic(nn.Module):
    """LeNet-5 as in LeCun et al. 1998: input (N, 1, 32, 32) -> RBF scores (N, 10)."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5)
        self.s2 = Subsampling(6)
        self.c3 = PartialConv2d(C3_TABLE)
        self.s4 = Subsampling(16)
        self.c5 = nn.Conv2d(16, 120, 5)
        self.f6 = nn.Linear(120, 84)
        self.output = RBFOutput(84, 10)
        self.act = ScaledTanh()

    def forward(self, x):
        check_input(x, "LeNet5Classic", channels=1, size=32)
        x = self.act(self.s2(self.act(self.c1(x))))
        x = self.act(self.s4(self.act(self.c3(x))))
        x = self.act(self.c5(x)).flatten(1)
        return self.output(self.act(self.f6(x)))


class LeNet5(nn.Module):
    """Modern LeNet-5: ReLU, max-pooling, full C3, linear output; (N, 1, 28, 28) -> logits (N, classes).

    Laid out like VGG (``features`` -> ``classifier``) so the pruning surgery treats both alike.
    ``widths``: the units of conv 1, conv 2, fc 1 and fc 2 (LeNet-5's 6, 16, 120, 84 by default).
    """

    def __init__(self, num_classes=10, widths=(6, 16, 120, 84)):
        super().__init__()
        if isinstance(widths, (str, bytes)) or not hasattr(widths, "__len__") or len(widths) != 4:
            raise ValueError(f"widths must be 4 positive ints (conv 1, conv 2, fc 1, fc 2), got {widths!r}")
        c1, c2, f1, f2 = (positive_int(w, "widths") for w in widths)
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 5), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(c2 * 5 * 5, f1), nn.ReLU(), nn.Linear(f1, f2), nn.ReLU(),
            nn.Linear(f2, positive_int(num_classes, "num_classes")))

    def forward(self, x):
        check_input(x, "LeNet5", channels=1, size=28)
        return self.classifier(self.features(x))


class LeNet300100(nn.Sequential):
    """LeNet-300-100: the fully connected MNIST net of LeCun et al. 1998; 266,610 parameters.
    (N, 1, 28, 28) or (N, 784) -> logits (N, 10)."""

    def __init__(self, num_classes=10):
        super().__init__(nn.Flatten(), nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 100), nn.ReLU(),
                         nn.Linear(100, positive_int(num_classes, "num_classes")))

    def forward(self, x):
        if x.dim() not in (2, 4) or x[0].numel() != 784:
            raise ValueError(f"LeNet300100 expects input of shape (N, 784) or (N, 1, 28, 28), got {tuple(x.shape)}")
        return super().forward(x)


class LeNet5Caffe(nn.Module):
    """The Caffe LeNet-5 used by Deep Compression: conv 20@5x5, pool, conv 50@5x5, pool,
    fc 500, fc 10; 431,080 parameters. (N, 1, 28, 28) -> logits (N, 10)."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 20, 5), nn.MaxPool2d(2), nn.Conv2d(20, 50, 5), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(50 * 4 * 4, 500), nn.ReLU(),
            nn.Linear(500, positive_int(num_classes, "num_classes")))

    def forward(self, x):
        check_input(x, "LeNet5Caffe", channels=1, size=28)
        return self.classifier(self.features(x))
