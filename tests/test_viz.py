import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from course_lib import stats, viz  # noqa: E402


def test_against_random_draws_the_draws_and_a_line_per_method():
    fig, ax = plt.subplots()
    draws = [0.5, 0.6, 0.7, 0.8]
    where = viz.against_random(ax, draws, {"method": 0.4, "other": 0.65}, "loss", title="t")
    assert where == {"method": 0.0, "other": stats.percentile_in(0.65, draws)}
    assert len(ax.collections[0].get_offsets()) == len(draws)  # one dot per draw
    assert [line.get_xdata()[0] for line in ax.lines] == [0.4, 0.65]
    labels = ax.get_legend_handles_labels()[1]
    assert labels == ["random plans (4 draws)", "method (percentile 0)", "other (percentile 50)"]
    assert ax.get_xlabel() == "loss" and ax.get_title() == "t"
    plt.close(fig)


def test_against_random_is_deterministic():
    offsets = []
    for _ in range(2):
        fig, ax = plt.subplots()
        viz.against_random(ax, [1.0, 2.0, 3.0], {"m": 2.0}, "x", draws_label="random orders")
        assert ax.get_legend_handles_labels()[1][0] == "random orders (3 draws)"
        offsets.append(ax.collections[0].get_offsets().copy())
        plt.close(fig)
    assert (offsets[0] == offsets[1]).all()


@pytest.mark.parametrize("args, error, match", [
    (("axes", [1.0], {"m": 1.0}, "x"), TypeError, "ax"),
    (("AX", [1.0], {}, "x"), TypeError, "methods"),
    (("AX", [1.0], [("m", 1.0)], "x"), TypeError, "methods"),
    (("AX", [1.0], {"m": 1.0}, 3), TypeError, "xlabel"),
    (("AX", [1.0], {"m": 1.0}, "x", None, 7), TypeError, "draws_label"),
    (("AX", [], {"m": 1.0}, "x"), ValueError, "sample"),
    (("AX", [1.0], {"m": float("nan")}, "x"), TypeError, "value"),
])
def test_against_random_rejects_bad_arguments(args, error, match):
    fig, ax = plt.subplots()
    args = (ax, *args[1:]) if args[0] == "AX" else args
    with pytest.raises(error, match=match):
        viz.against_random(*args)
    plt.close(fig)
