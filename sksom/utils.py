"""Helpers for code that takes a fitted map or a pipeline ending in one.

:mod:`sksom.maps`, :mod:`sksom.plotting`, :mod:`sksom.metrics` and the
command line accept either a fitted :class:`~sksom.SOMClusterer` or a fitted
:class:`~sklearn.pipeline.Pipeline` whose last step is one (for instance a
``StandardScaler`` followed by the map). These functions split such a model
into the map and the steps that feed it, so that user code can do the same.
"""


def unwrap_map(model):
    """The fitted map of ``model`` and the pipeline steps that feed it.

    Parameters
    ----------
    model : SOMClusterer or Pipeline
        A fitted map, or a fitted pipeline whose last step is one.

    Returns
    -------
    som : SOMClusterer
        The map.
    preprocess : Pipeline or None
        The steps before the map (``model[:-1]``), or ``None`` when there are
        none.

    Raises
    ------
    TypeError
        When ``model`` is neither a map nor a pipeline ending in one.
    sklearn.exceptions.NotFittedError
        When the map is not fitted.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sksom import SOMClusterer
    >>> from sksom.utils import unwrap_map
    >>> X = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0]])
    >>> model = make_pipeline(StandardScaler(), SOMClusterer((1, 2), random_state=0)).fit(X)
    >>> som, preprocess = unwrap_map(model)
    >>> som.map_size_, [name for name, _ in preprocess.steps]
    ((1, 2), ['standardscaler'])
    """
    from sklearn.utils.validation import check_is_fitted

    preprocess = None
    som = model
    if hasattr(model, "steps"):
        som = model[-1]
        preprocess = model[:-1] if len(model.steps) > 1 else None
    if not (hasattr(som, "map_size") and hasattr(som, "fit")):
        raise TypeError(
            f"Expected a fitted SOMClusterer or a Pipeline whose last step is one; got {type(som).__name__}."
        )
    check_is_fitted(som, "cluster_centers_")
    return som, preprocess


def map_input(model, X):
    """The fitted map of ``model`` and ``X`` passed through the steps before it.

    Parameters
    ----------
    model : SOMClusterer or Pipeline
        A fitted map, or a fitted pipeline whose last step is one.
    X : array-like of shape (n_samples, n_features)
        Data in the input space of ``model``.

    Returns
    -------
    som : SOMClusterer
        The map.
    X : array-like of shape (n_samples, n_features_in_of_the_map)
        ``X`` transformed by the pipeline's preceding steps (unchanged for a
        bare map).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sksom import SOMClusterer
    >>> from sksom.utils import map_input
    >>> X = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0]])
    >>> model = make_pipeline(StandardScaler(), SOMClusterer((1, 2), random_state=0)).fit(X)
    >>> som, Xt = map_input(model, X)
    >>> som.predict(Xt).tolist() == model.predict(X).tolist()
    True
    """
    som, preprocess = unwrap_map(model)
    if preprocess is not None:
        X = preprocess.transform(X)
    return som, X
