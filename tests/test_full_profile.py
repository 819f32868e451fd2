"""The full profile, run end to end on miniature data: every notebook executed top to bottom with
``COURSE_PROFILE=full`` and the fast development run (``COURSE_FAST_DEV_RUN=1``: every loop takes
its real code path and stops after two small batches, one epoch, one latency call), on miniature
copies of the real datasets in their on-disk formats and random ImageNet VGG-16 weights, all made
here in a temporary folder (``tests/miniature.py``). Outputs are not compared: the numbers of a
two-batch run mean nothing. The checks (``assert``) are off (``PYTHONOPTIMIZE``): they are claims
about trained networks, which the quick profile and ``tools/nbrun.py --robust`` test. A notebook
fails on any error, and when it read the quick profile's offline MNIST subset instead of the full
profile's data. Marked ``full_profile``; ``.ci/run`` runs ``pytest -m full_profile``.
"""
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import miniature

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
IPYNBS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
# the quick profile's data all comes through data.mnist_arrays (cached): untouched = not read
QUICK_DATA_READ = "from course_lib import data as _data\nprint(_data.mnist_arrays.cache_info().currsize)"


@pytest.fixture(scope="module")
def full_profile_env(tmp_path_factory):
    """The kernel's environment: the full profile, the fast development run, the miniature data."""
    root = tmp_path_factory.mktemp("full_profile")
    data_dir = root / "data"
    miniature.mnist(data_dir / "mnist")
    md5 = miniature.cifar10(data_dir / "cifar10")
    miniature.oxford_pets(data_dir / "oxford-iiit-pet")
    miniature.vgg16_imagenet_weights(root / "torch")
    startup = root / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-miniature-cifar10.py").write_text(miniature.cifar10_md5_patch(md5))
    return {"COURSE_PROFILE": "full", "COURSE_FAST_DEV_RUN": "1", "COURSE_DATA_DIR": str(data_dir),
            "TORCH_HOME": str(root / "torch"), "IPYTHONDIR": str(root / "ipython"), "PYTHONOPTIMIZE": "1",
            "COURSE_PROGRESS": "0"}


@pytest.mark.full_profile
@pytest.mark.parametrize("path", IPYNBS, ids=lambda p: p.stem)
def test_the_notebook_runs_in_the_full_profile(path, full_profile_env, monkeypatch):
    for name, value in full_profile_env.items():
        monkeypatch.setenv(name, value)
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(QUICK_DATA_READ))
    NotebookClient(notebook, timeout=600, resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    read = "".join(o.get("text", "") for o in notebook.cells[-1].outputs).strip()
    assert read == "0", f"{path.name} read the quick profile's MNIST subset under COURSE_PROFILE=full"
