"""Warnings and errors raised by sksom."""

__all__ = ["InconsistentVersionWarning"]


class InconsistentVersionWarning(UserWarning):
    """Warning raised when a model saved by another sksom version is loaded.

    A pickled estimator stores the sksom version that wrote it. Loading it
    with a different version works when the fitted attributes have not
    changed, but that is not guaranteed: refit the model, or load it with the
    version that saved it.

    Parameters
    ----------
    estimator_name : str
        Class name of the loaded estimator.
    current_sksom_version : str
        Version of sksom doing the loading.
    original_sksom_version : str
        Version of sksom that saved the model (``"unknown"`` when the pickle
        carries no stamp).

    Examples
    --------
    >>> from sksom.exceptions import InconsistentVersionWarning
    >>> w = InconsistentVersionWarning("SOMClusterer", "0.2.0", "0.1.0")
    >>> w.original_sksom_version
    '0.1.0'
    """

    def __init__(self, estimator_name, current_sksom_version, original_sksom_version):
        self.estimator_name = estimator_name
        self.current_sksom_version = current_sksom_version
        self.original_sksom_version = original_sksom_version

    def __str__(self):
        return (
            f"Loading {self.estimator_name} saved by sksom {self.original_sksom_version} "
            f"with sksom {self.current_sksom_version}. This might give invalid results; "
            "refit the model or load it with the version that saved it."
        )
