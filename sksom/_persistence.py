"""Version stamp for pickled estimators."""

import warnings

from .exceptions import InconsistentVersionWarning

# Key under which the pickled state records the sksom version that wrote it.
_VERSION_KEY = "_sksom_version"


def _current_version():
    # Imported here: ``sksom/__init__`` imports this module's users first.
    from . import __version__

    return __version__


class VersionStampMixin:
    """Record the sksom version in the pickled state; warn when it differs.

    Placed left of ``BaseEstimator`` so that scikit-learn's own
    ``__getstate__``/``__setstate__`` still run (through ``super``).
    """

    def __getstate__(self):
        state = super().__getstate__()
        return dict(state, **{_VERSION_KEY: _current_version()})

    def __setstate__(self, state):
        state = dict(state)
        saved = state.pop(_VERSION_KEY, "unknown")
        current = _current_version()
        if saved != current:
            warnings.warn(
                InconsistentVersionWarning(type(self).__name__, current, saved),
                stacklevel=2,
            )
        super().__setstate__(state)
