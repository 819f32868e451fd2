"""Helpers for the notebooks themselves."""
import inspect


def show_source(obj):
    """Display the source code of a function or class as a Python code block, so a notebook shows
    the library code it is about to run (in a notebook; elsewhere prints it)."""
    if not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismethod(obj)):
        raise TypeError(f"obj must be a function, method or class, got {type(obj).__name__}")
    from IPython import get_ipython
    from IPython.display import Markdown, display

    source = inspect.getsource(obj)
    if get_ipython() is None:
        print(source)
    else:
        display(Markdown(f"```python\n{source}```"))
