"""Exercise checks: one module per notebook (``course_lib.checks.nb01`` ...).

A check prints one line starting with a tick when the answer is right and raises
``AssertionError`` saying what is wrong otherwise. Checks build their own test inputs, so
re-running a cell cannot make a wrong answer pass. An answer that still raises
``NotImplementedError`` (the stub of a student version) fails with one line: not attempted yet.
"""
import functools


def expect(condition, message):
    """Raise ``AssertionError(message)`` unless ``condition`` holds."""
    if not condition:
        raise AssertionError(message)


def passed(message):
    """Report a passed check."""
    print(f"✓ {message}")


def exercise(check):
    """Decorator for a check whose first argument is the student's answer: when the answer raises
    ``NotImplementedError``, the check fails with one line saying so instead of a traceback."""
    @functools.wraps(check)
    def run(answer, *args, **kwargs):
        try:
            return check(answer, *args, **kwargs)
        except NotImplementedError:
            name = getattr(answer, "__name__", "this exercise")
            raise AssertionError(f"{name}: not attempted yet (replace `raise NotImplementedError` "
                                 "with your code)") from None
    return run
