import os

# Set before nbval starts any kernel (kernels inherit this environment): no progress bars in
# compared outputs, and the offline quick profile unless the caller asked for another one.
os.environ["COURSE_PROGRESS"] = "0"
os.environ.setdefault("COURSE_PROFILE", "quick")
