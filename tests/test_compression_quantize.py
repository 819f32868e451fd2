import pytest
import torch

from course_lib import train
from course_lib.compression import quantize as Q
from course_lib.models.lenet import LeNet300100, LeNet5Caffe


def mixture(centres, n=2000, spread=0.01, seed=0):
    g = torch.Generator().manual_seed(seed)
    idx = torch.randint(len(centres), (n,), generator=g)
    return torch.tensor(centres)[idx] + spread * torch.randn(n, generator=g)


@pytest.mark.parametrize("init", ["linear", "density"])
def test_kmeans_recovers_mixture_centres(init):
    centres = [-0.8, -0.1, 0.3, 1.2]
    found, labels = Q.kmeans_1d(mixture(centres), 4, init=init)
    assert torch.allclose(found, torch.tensor(centres), atol=0.01)
    assert labels.unique().tolist() == [0, 1, 2, 3]


def test_kmeans_result_is_a_fixed_point_of_lloyd():
    # random (Forgy) starts can end in a local optimum, but it is still a k-means fixed point
    values = mixture([-0.8, -0.1, 0.3, 1.2])
    found, labels = Q.kmeans_1d(values, 4, init="random", seed=3)
    means = torch.stack([values[labels == j].mean() for j in range(4)])
    assert torch.allclose(found, means, atol=1e-5)
    assert torch.equal(labels, Q.assign(values, found))


def test_init_methods():
    values = torch.tensor([0.0, 1.0, 2.0, 3.0, 10.0])
    assert Q.init_centroids(values, 3, "linear").tolist() == [0.0, 5.0, 10.0]
    assert Q.init_centroids(values, 3, "density").tolist() == [0.0, 2.0, 10.0]
    picked = Q.init_centroids(values, 3, "random")
    assert all(v in values.tolist() for v in picked.tolist()) and picked.unique().numel() == 3


def test_quantize_weight_keeps_zeros_and_bits():
    torch.manual_seed(0)
    w = torch.randn(20, 30) * (torch.rand(20, 30) > 0.7)
    s = Q.quantize_weight(w, 3)
    assert s.codebook[0] == 0 and s.codebook.numel() <= 8
    assert torch.equal(s.indices == 0, w == 0)
    assert (s.dense() - w).abs().max() < w.abs().max() / 4  # 7 centroids over the range


def test_centroid_gradient_is_the_grouped_sum():
    torch.manual_seed(0)
    model = LeNet300100()
    shared = Q.quantize_model(model, bits=2)
    wrapped = Q.SharedWeightModel(model, shared)
    x, y = torch.randn(8, 784), torch.randint(10, (8,))
    torch.nn.functional.cross_entropy(wrapped(x), y).backward()
    # the same loss with a plain model: the gradient of each weight, summed per cluster
    plain = Q.with_shared_weights(model, shared)
    torch.nn.functional.cross_entropy(plain(x), y).backward()
    for i, name in enumerate(wrapped.names):
        grad_w = dict(plain.named_modules())[name].weight.grad
        idx = shared[name].indices
        summed = torch.zeros(shared[name].codebook.numel(), dtype=torch.float64)
        summed.index_add_(0, idx.flatten(), grad_w.flatten().double())
        # float32 sums of ~10^5 terms in a different order agree to ~1e-5 relative, not bitwise
        assert torch.allclose(wrapped.centroids[i].grad.double(), summed[1:], rtol=1e-4, atol=1e-6)


def test_fine_tuning_moves_centroids_only_and_keeps_pruned_zero():
    torch.manual_seed(0)
    model = LeNet5Caffe()
    with torch.no_grad():
        model.classifier[1].weight[:, :400] = 0
    wrapped = Q.SharedWeightModel(model, Q.quantize_model(model, bits=3))
    x, y = torch.randn(32, 1, 28, 28), torch.randint(10, (32,))
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=16)
    before = wrapped.shared()
    train.fit(wrapped, loader, epochs=2, lr=0.05)
    after = wrapped.shared()
    assert not torch.equal(before["classifier.1"].codebook, after["classifier.1"].codebook)
    assert torch.equal(before["classifier.1"].indices, after["classifier.1"].indices)
    assert not wrapped.to_model().classifier[1].weight[:, :400].any()


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="init"):
        Q.kmeans_1d(torch.randn(10), 3, init="kmeans++")
    with pytest.raises(ValueError, match="k must"):
        Q.kmeans_1d(torch.randn(10), 0)
    with pytest.raises(TypeError, match="values"):
        Q.kmeans_1d(torch.arange(10), 3)
    with pytest.raises(ValueError, match="bits"):
        Q.quantize_weight(torch.randn(4, 4), 0)
    with pytest.raises(ValueError, match="values"):
        Q.init_centroids(torch.zeros(0), 3)
    with pytest.raises(ValueError, match="centroids"):
        Q.assign(torch.randn(5), torch.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="bits"):
        Q.quantize_model(LeNet300100(), bits={"1": 4})
    with pytest.raises(ValueError, match="shared"):
        Q.SharedWeightModel(LeNet300100(), {})
