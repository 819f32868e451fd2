"""Fixtures shared by the test modules."""
import pytest

from course_lib import config


@pytest.fixture
def kaggle_folder(monkeypatch, tmp_path):
    """``make(n, size)``: a generated ``dogs-vs-cats/{train,test}/{cat,dog}/`` folder of ``n``
    plain-colour JPEGs per class and split, of ``size`` (width, height), in a temporary DATA_DIR."""
    from PIL import Image

    monkeypatch.setattr(config, "DATA_DIR", tmp_path)

    def make(n, size):
        for split in ("train", "test"):
            for i, cls in enumerate(("cat", "dog")):
                folder = tmp_path / "dogs-vs-cats" / split / cls
                folder.mkdir(parents=True)
                for j in range(n):
                    Image.new("RGB", size, (i * 200, j * 20, 90)).save(folder / f"{j}.jpg")

    return make
