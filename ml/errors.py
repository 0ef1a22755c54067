"""What a model says when a drop cannot train it: not a failure, a reason to skip."""


class NotEnoughData(ValueError):  # noqa: N818 (a condition of the data, not a bug)
    """The warehouse holds too little history (or one class only) to train and evaluate a
    model honestly. The message says what is needed and what there is, in one line, e.g.
    "needs 63 days of demand history, has 11"."""
