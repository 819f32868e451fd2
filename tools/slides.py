"""Build the lecture decks, or write the slide metadata into the notebooks.

    python tools/slides.py            # every notebook's deck: slides/NN_topic.slides.html
    python tools/slides.py 00 03      # the decks of the notebooks whose names start so
    python tools/slides.py --tag      # slide metadata into notebooks/*.ipynb, in place

A deck is the notebook as stored (outputs included, nothing executed), cut into slides by the rule
of ``course_lib.slides``, and opens offline from disk: reveal.js and MathJax are copied from
installed packages into ``slides/reveal.js/`` and ``slides/mathjax/``. Decks and copies are build
products (git-ignored). ``--tag`` changes the cells' slide metadata only, which RISE reads when
presenting live in JupyterLab; outputs are kept and nothing is executed.
"""
import argparse

import nbformat

from course_lib.slides import build_deck, slide_metadata_
from nbrun import NOTEBOOKS, ROOT, save_pair, select  # tools/nbrun.py: the same notebook selection


def tag(path):
    """Write the rule's slide metadata into the notebook at ``path``; returns its slide types."""
    notebook = slide_metadata_(nbformat.read(path, as_version=4))
    save_pair(notebook, path)
    return [cell.metadata.slideshow.slide_type for cell in notebook.cells]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tag", action="store_true", help="write the slide metadata into the notebooks instead")
    parser.add_argument("notebooks", nargs="*", help="name prefixes, e.g. 00 03_l1 (default: all)")
    args = parser.parse_args()
    for name in select(args.notebooks):
        path = NOTEBOOKS / f"{name}.ipynb"
        if args.tag:
            types = tag(path)
            print(f"{path.name:36s} tagged: {types.count('slide')} slides, {types.count('subslide')} subslides")
        else:
            print(f"{path.name:36s} -> {build_deck(path, ROOT / 'slides').relative_to(ROOT)}")


if __name__ == "__main__":
    main()
