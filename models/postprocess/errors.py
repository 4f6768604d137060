"""Input-error exceptions of the post-processing models.

Every problem a user can cause (bad COUNTS.json, impossible parameters, unreadable key files)
raises a subclass of :class:`PostprocessInputError` with a one-line message naming the problem;
``qkdsim`` prints it as ``qkdsim: error: ...`` and exits with status 2.
"""


class PostprocessInputError(ValueError):
    """Base class of the one-line input errors of :mod:`models.postprocess`."""
