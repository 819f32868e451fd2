"""Every check whose answer is a function says "not attempted yet" in one line when the function
is still the student version's stub."""
import pytest

from course_lib.checks import nb00, nb01, nb02, nb03, nb04, nb05, nb06, nb07, nb08

VALUE_ANSWERS = {"check_fire_design", "check_mobilenet_budget"}  # their answers are a module / numbers
CHECKS = [getattr(module, name) for module in (nb00, nb01, nb02, nb03, nb04, nb05, nb06, nb07, nb08)
          for name in dir(module) if name.startswith("check_") and name not in VALUE_ANSWERS]


def stub(*args, **kwargs):
    raise NotImplementedError


def test_every_notebook_has_function_checks():
    assert len(CHECKS) == 26


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: f"{c.__module__.rsplit('.', 1)[1]}.{c.__name__}")
def test_a_stub_is_not_attempted_yet_in_one_line(check):
    with pytest.raises(AssertionError, match=r"^stub: not attempted yet \(replace `raise NotImplementedError`") as caught:
        check(stub)
    assert "\n" not in str(caught.value) and caught.value.__suppress_context__


def test_other_errors_of_an_answer_are_not_hidden():
    def broken(*args, **kwargs):
        raise KeyError("a bug in the answer")
    with pytest.raises(KeyError, match="a bug in the answer"):
        nb03.check_filter_l1(broken)
