"""course_lib: the tested library behind the CNN compression course notebooks."""
