"""Model builders: import from the submodules, e.g. ``from course_lib.models.vgg import vgg16``."""
