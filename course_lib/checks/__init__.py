"""Exercise checks: one module per notebook (``course_lib.checks.nb01`` ...).

A check prints one line starting with a tick when the answer is right and raises
``AssertionError`` saying what is wrong otherwise. Checks build their own test inputs, so
re-running a cell cannot make a wrong answer pass.
"""


def expect(condition, message):
    """Raise ``AssertionError(message)`` unless ``condition`` holds."""
    if not condition:
        raise AssertionError(message)


def passed(message):
    """Report a passed check."""
    print(f"✓ {message}")
