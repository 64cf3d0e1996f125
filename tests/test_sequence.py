"""Behaviour of RecursiveSOM and the temporal quantization error."""

import pickle
import re

import numpy as np
import pytest

import sksom._sequence as sequence_module
from sksom import RecursiveSOM, SOMClusterer
from sksom._topology import unit_coordinates
from sksom.metrics import temporal_quantization_error

# Two sequences of different lengths: the second is padded in lockstep.
rng0 = np.random.RandomState(0)
X_two = rng0.uniform(size=(8, 2))
LENGTHS_TWO = [5, 3]


def _markov_chain(n_steps, seed=0):
    """States a, b, c (0, 1, 2): a -> b|c, b -> a, c -> b|c, each choice 1/2."""
    rng = np.random.RandomState(seed)
    states = np.empty(n_steps, dtype=int)
    states[0] = 0
    coin = rng.uniform(size=n_steps) < 0.5
    for t in range(1, n_steps):
        previous = states[t - 1]
        if previous == 1:
            states[t] = 0
        else:
            states[t] = 1 if coin[t] else 2
    return states


STATES = _markov_chain(10_000)
X_markov = np.eye(3)[STATES]
FORBIDDEN = {(0, 0), (1, 1), (1, 2), (2, 0)}


def _reference_epoch(X, lengths, W, C, coords, params, weights=None):
    """One epoch of RecSOM / MSOM written out in NumPy from the equations.

    Sequences run in lockstep: at step t every sequence that has a step t
    computes its BMU from the codebook as it was before step t; each unit
    then moves to the step-factor-weighted mean of its targets by
    min(1, sum of step factors). Schedules: exponential radius, inverse
    learning rate, merge weight rising to its final value by half of fit.
    """
    W, C = W.copy(), C.copy()
    lengths = np.asarray(lengths)
    n = len(X)
    weights = np.ones(n) if weights is None else np.asarray(weights, float)
    relative = weights * n / weights.sum()
    starts = np.cumsum(lengths) - lengths
    T = lengths.max()
    contexts = [np.zeros(C.shape[1]) for _ in lengths]
    r0, r1 = params["radius_start"], params["radius_end"]
    l0, l1 = params["learning_rate_start"], params["learning_rate_end"]
    for t in range(T):
        p = t / T  # progress within the single epoch of fit(max_iter=1)
        sigma = r0 * (r1 / r0) ** p
        rate = l0 / (1.0 + (l0 / l1 - 1.0) * p)
        if params["context"] == "recursive":
            c_in, c_ctx = params["alpha"], params["beta"]
        else:
            a = params["context_weight"] * min(1.0, 2.0 * p)
            c_in, c_ctx = 1.0 - a, a
        factors, targets_w, targets_c = [], [], []
        for s, length in enumerate(lengths):
            if t >= length:
                continue
            x = X[starts[s] + t]
            E = c_in * ((x - W) ** 2).sum(1) + c_ctx * ((contexts[s] - C) ** 2).sum(1)
            bmu = np.argmin(E)
            d2 = ((coords - coords[bmu]) ** 2).sum(1)
            h = np.exp(-d2 / (2 * sigma**2))
            factors.append(np.minimum(rate * h * relative[starts[s] + t], 1.0))
            targets_w.append(x)
            targets_c.append(contexts[s])
            if params["context"] == "recursive":
                contexts[s] = np.exp(-E)
            else:
                g = params["gamma"]
                contexts[s] = (1 - g) * W[bmu] + g * C[bmu]
        A = np.array(factors)  # (active sequences, n_units)
        total = A.sum(0)
        scale = np.where(total > 1, 1 / np.maximum(total, 1), 1.0)[:, None]
        W = W + scale * (A.T @ np.array(targets_w) - total[:, None] * W)
        C = C + scale * (A.T @ np.array(targets_c) - total[:, None] * C)
    return W, C


def _reference_forward(X, lengths, W, C, params):
    """BMU and combined squared distances of every step, from the empty context."""
    out_bmu, out_E = [], []
    start = 0
    for length in lengths:
        context = np.zeros(C.shape[1])
        for x in X[start : start + length]:
            if params["context"] == "recursive":
                c_in, c_ctx = params["alpha"], params["beta"]
            else:
                c_in, c_ctx = 1 - params["context_weight"], params["context_weight"]
            E = c_in * ((x - W) ** 2).sum(1) + c_ctx * ((context - C) ** 2).sum(1)
            bmu = np.argmin(E)
            out_bmu.append(bmu)
            out_E.append(E)
            if params["context"] == "recursive":
                context = np.exp(-E)
            else:
                context = (1 - params["gamma"]) * W[bmu] + params["gamma"] * C[bmu]
        start += length
    return np.array(out_bmu), np.array(out_E)


PARAMS = {
    "recursive": dict(context="recursive", alpha=2.0, beta=0.7),
    "merge": dict(context="merge", gamma=0.3, context_weight=0.6),
}
# A start rate of 0.6 makes the step factors of two sequences that share a BMU
# add up to more than 1 there (the capped case), without capping the
# neighbours, which would land on the same point and tie.
COMMON = dict(
    map_size=(2, 3), radius_start=1.5, radius_end=0.5, learning_rate_start=0.6,
    learning_rate_end=0.1, max_iter=1, random_state=0,
)


def _model_and_start(context, X):
    params = {**COMMON, **PARAMS[context]}
    model = RecursiveSOM(**params)
    W, C = model._initial_state(X, params["map_size"], np.random.RandomState(0))
    return model, params, W, C


# -- the kernels against the equations ------------------------------------------


@pytest.mark.parametrize("context", ["recursive", "merge"])
@pytest.mark.parametrize("weighted", [False, True])
def test_epoch_matches_numpy_reference(context, weighted):
    """Check that one epoch on two sequences of different lengths follows the equations."""
    model, params, W0, C0 = _model_and_start(context, X_two)
    weights = np.linspace(0.5, 2.0, len(X_two)) if weighted else None
    model.fit(X_two, lengths=LENGTHS_TWO, sample_weight=weights)
    coords = unit_coordinates(params["map_size"])
    W, C = _reference_epoch(X_two, LENGTHS_TWO, W0, C0, coords, params, weights)
    np.testing.assert_allclose(model.cluster_centers_, W, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(model.contexts_, C, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("context", ["recursive", "merge"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("compiled", [False, True], ids=["graph", "xla"])
def test_single_sequence_epoch_matches_numpy_reference(context, weighted, compiled, monkeypatch):
    """Check that one sequence (lengths=None: the kernel's single-sequence form) follows the equations."""
    import sksom._engine.sequence as kernels

    if compiled:
        monkeypatch.setattr(kernels, "XLA_MIN_STEPS", 1)
    X = np.random.RandomState(3).uniform(size=(17, 2))
    model, params, W0, C0 = _model_and_start(context, X)
    weights = np.linspace(0.5, 2.0, len(X)) if weighted else None
    model.fit(X, sample_weight=weights)
    W, C = _reference_epoch(X, [len(X)], W0, C0, unit_coordinates(params["map_size"]), params, weights)
    np.testing.assert_allclose(model.cluster_centers_, W, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(model.contexts_, C, rtol=1e-6, atol=1e-9)


def test_lockstep_step_capped_at_one(monkeypatch):
    """Check that units pulled by several sequences at once never overshoot the target."""
    x = np.array([0.3, 0.7])
    W0 = np.random.RandomState(0).uniform(size=(6, 2))
    C0 = np.zeros((6, 6))
    monkeypatch.setattr(RecursiveSOM, "_initial_state", lambda self, X, map_size, rng: (W0.copy(), C0.copy()))
    # Four one-step sequences with the same input: a summed step of 4 x 0.9 at the BMU.
    model = RecursiveSOM(**{**COMMON, "learning_rate_start": 0.9}).fit(np.tile(x, (4, 1)), lengths=[1, 1, 1, 1])
    moved = (model.cluster_centers_ - W0) / (x - W0)
    # Each unit moves along its segment towards x by a factor in [0, 1] (the same for both features).
    np.testing.assert_allclose(moved[:, 0], moved[:, 1])
    assert np.all(moved >= 0) and np.all(moved <= 1 + 1e-12)
    bmu = np.argmin(((x - W0) ** 2).sum(axis=1))
    np.testing.assert_allclose(model.cluster_centers_[bmu], x)


def test_compiled_kernel_matches_numpy_reference(monkeypatch):
    """Check that the XLA-compiled loop (long sequences) follows the same equations."""
    import sksom._engine.sequence as kernels

    monkeypatch.setattr(kernels, "XLA_MIN_STEPS", 1)
    model, params, W0, C0 = _model_and_start("recursive", X_two)
    model.fit(X_two, lengths=LENGTHS_TWO)
    W, C = _reference_epoch(X_two, LENGTHS_TWO, W0, C0, unit_coordinates(params["map_size"]), params)
    np.testing.assert_allclose(model.cluster_centers_, W, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(model.contexts_, C, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("compiled", [False, True], ids=["graph", "xla"])
@pytest.mark.parametrize("context", ["recursive", "merge"])
def test_uneven_lengths_follow_the_equations_in_narrowing_blocks(context, compiled, monkeypatch):
    """Check training and prediction against the equations when ended sequences leave the blocks."""
    import sksom._engine.sequence as kernels

    if compiled:
        monkeypatch.setattr(kernels, "XLA_MIN_STEPS", 1)
    monkeypatch.setattr(sequence_module, "_BLOCK_MAX_STEPS", 8)
    lengths = [3, 13, 1, 9, 2, 13]
    X = np.random.RandomState(2).uniform(size=(sum(lengths), 2))
    widths = [width for _, _, width in sequence_module._Layout(np.array(lengths), 2).spans]
    assert widths[0] == 6 and widths[-1] == 2 and len(set(widths)) >= 3
    model, params, W0, C0 = _model_and_start(context, X)
    model.fit(X, lengths=lengths)
    W, C = _reference_epoch(X, lengths, W0, C0, unit_coordinates(params["map_size"]), params)
    np.testing.assert_allclose(model.cluster_centers_, W, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(model.contexts_, C, rtol=1e-6, atol=1e-9)
    bmus, E = _reference_forward(X, lengths, model.cluster_centers_, model.contexts_, params)
    np.testing.assert_array_equal(model.predict(X, lengths), bmus)
    np.testing.assert_allclose(model.transform(X, lengths), np.sqrt(E), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    "lengths",
    [[2000] + [1] * 2000, [5, 5, 5], list(np.random.RandomState(3).geometric(0.01, size=300)), [1]],
    ids=["one-long", "equal", "geometric", "one-step"],
)
def test_lockstep_work_stays_below_twice_the_steps(lengths):
    """Check that the blocks hold every row once and cost under twice the steps, however uneven the lengths.

    Padding every sequence to the longest would cost n_sequences x longest:
    2,001 x 2,000 steps for one long sequence among 2,000 one-step ones.
    """
    layout = sequence_module._Layout(np.array(lengths), 2)
    rows = np.concatenate([layout.block_index(s, n, w)[layout.block_index(s, n, w) >= 0] for s, n, w in layout.spans])
    np.testing.assert_array_equal(np.sort(rows), np.arange(sum(lengths)))
    assert all(0 < n <= layout.block_steps(w) for _, n, w in layout.spans)
    assert sum(n * width for _, n, width in layout.spans) < 2 * sum(lengths)


@pytest.mark.parametrize("context", ["recursive", "merge"])
def test_predict_and_transform_match_numpy_reference(context, monkeypatch):
    """Check that prediction restarts the context at each sequence, across time blocks."""
    # Blocks of 8 steps: the 19-step sequence spans three, its context carried over.
    monkeypatch.setattr(sequence_module, "_BLOCK_MAX_STEPS", 8)
    X = np.random.RandomState(1).uniform(size=(23, 2))
    lengths = [19, 4]
    model, params, _, _ = _model_and_start(context, X)
    model.fit(X, lengths=lengths)
    bmus, E = _reference_forward(X, lengths, model.cluster_centers_, model.contexts_, params)
    np.testing.assert_array_equal(model.predict(X, lengths), bmus)
    np.testing.assert_allclose(model.transform(X, lengths), np.sqrt(E), rtol=1e-6, atol=1e-7)
    assert model.score(X, lengths=lengths) == pytest.approx(-np.sqrt(E.min(axis=1)).mean())


def test_uniform_weights_equal_unweighted():
    """Check that weights of any uniform size give exactly the unweighted map."""
    base = RecursiveSOM(map_size=(2, 3), max_iter=2, random_state=0).fit(X_two, lengths=LENGTHS_TWO)
    weighted = RecursiveSOM(map_size=(2, 3), max_iter=2, random_state=0).fit(
        X_two, lengths=LENGTHS_TWO, sample_weight=np.full(len(X_two), 7.0)
    )
    np.testing.assert_allclose(weighted.cluster_centers_, base.cluster_centers_, rtol=1e-12)


def test_partial_fit_epochs_equal_fit():
    """Check that max_iter calls of partial_fit equal fit, each epoch from the empty context."""
    params = dict(map_size=(2, 3), max_iter=3, random_state=0, context="merge")
    fitted = RecursiveSOM(**params).fit(X_two, lengths=LENGTHS_TWO)
    partial = RecursiveSOM(**params)
    for _ in range(3):
        partial.partial_fit(X_two, lengths=LENGTHS_TWO)
    np.testing.assert_allclose(partial.cluster_centers_, fitted.cluster_centers_, rtol=1e-12)
    np.testing.assert_allclose(partial.contexts_, fitted.contexts_, rtol=1e-12)
    assert partial.n_iter_ == fitted.n_iter_ == 3


# -- the Markov chain of the issue ---------------------------------------------------


@pytest.fixture(scope="module")
def plain_som_tqe():
    som = SOMClusterer(map_size=(7, 7), random_state=0).fit(X_markov)
    return temporal_quantization_error(X_markov, som.predict(X_markov), max_lag=5)


@pytest.fixture(scope="module", params=["recursive", "merge"])
def markov_model(request):
    return RecursiveSOM(map_size=(7, 7), context=request.param, max_iter=4, random_state=0).fit(X_markov)


def test_markov_chain(markov_model, plain_som_tqe):
    """Check memory of the past, receptive-field depth and generation on the Markov chain."""
    model = markov_model
    tqe = temporal_quantization_error(X_markov, model.labels_, max_lag=5)
    assert np.all(tqe[1:] < plain_som_tqe[1:]), (tqe, plain_som_tqe)
    fields = model.receptive_fields(X_markov, max_depth=10)
    assert fields.mean_depth >= 3
    generated = model.generate(1000).argmax(axis=1)
    assert not FORBIDDEN & set(zip(generated[:-1], generated[1:]))
    # The generator visits more than one state (it is not stuck on one unit).
    assert len(set(generated)) >= 2


def test_receptive_fields_by_brute_force(markov_model):
    """Check receptive fields against the histories of each unit's steps, compared one by one."""
    X = X_markov
    bmus = markov_model.predict(X)
    # Symbols are numbered by first appearance in X.
    first_seen = [int(s) for s in dict.fromkeys(STATES.tolist())]
    names = ["abc"[s] for s in first_seen]
    result = markov_model.receptive_fields(X, max_depth=6, names=names)
    for unit in range(markov_model.cluster_centers_.shape[0]):
        steps = np.flatnonzero(bmus == unit)
        if steps.size == 0:
            assert result.fields[unit] == "" and result.depths[unit] == 0
            continue
        # Longest shared suffix, by brute force over the periodic history.
        field = ""
        while len(field) < 6:
            # The symbol `depth` steps back of every step the unit wins; a
            # history cut by the start of the sequence agrees with anything.
            past = {"abc"[STATES[t - len(field)]] for t in steps if t - len(field) >= 0}
            if len(past) != 1:
                break
            field = past.pop() + field
        assert result.fields[unit] == field
        assert result.depths[unit] == len(field)
    np.testing.assert_array_equal(result.hits, np.bincount(bmus, minlength=len(result.hits)))
    assert result.mean_depth == pytest.approx(np.average(result.depths, weights=result.hits))
    np.testing.assert_array_equal(result.symbols, np.eye(3)[first_seen])


# -- temporal quantization error ------------------------------------------------------


def test_temporal_quantization_error_by_hand():
    """Check TQE against a hand computation with two sequences."""
    X = np.array([[0.0], [2.0], [4.0], [1.0], [3.0]])
    labels = [0, 1, 0, 0, 1]
    # lag 0: unit 0 has 0, 4, 1 (mean 5/3), unit 1 has 2, 3 (mean 2.5).
    lag0 = np.sqrt(((0 - 5 / 3) ** 2 + (4 - 5 / 3) ** 2 + (1 - 5 / 3) ** 2 + 0.25 + 0.25) / 5)
    # lag 1 with lengths [3, 2]: steps 1, 2 (first sequence) and 4 (second);
    # step 3 starts a sequence. Unit 1 wins steps 1 and 4 (pasts 0 and 1),
    # unit 0 wins step 2 (past 2).
    lag1 = np.sqrt((0.25 + 0.25 + 0.0) / 3)
    # lag 2: only step 2, alone in its unit.
    tqe = temporal_quantization_error(X, labels, max_lag=3, lengths=[3, 2])
    np.testing.assert_allclose(tqe[:3], [lag0, lag1, 0.0])
    assert np.isnan(tqe[3])
    # As one sequence, step 3's past (4.0) counts for unit 0 at lag 1.
    one = temporal_quantization_error(X, labels, max_lag=1)
    past_unit0 = [2.0, 4.0]  # steps 2 and 3
    past_unit1 = [0.0, 1.0]  # steps 1 and 4
    expected = np.sqrt((np.var(past_unit0) * 2 + np.var(past_unit1) * 2) / 4)
    assert one[1] == pytest.approx(expected)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(labels=[0, 1]), "labels has shape"),
        (dict(labels=[0.5, 1, 0, 0, 1]), "integer unit indices"),
        (dict(max_lag=-1), "max_lag"),
        (dict(lengths=[2, 2]), "lengths sum to 4"),
        (dict(lengths=[2**62, 2**62, 2**62, 2**62 + 5]), "lengths sum to more than the 5 rows"),
        (dict(max_lag=True), "max_lag"),
        # Only lags below the number of rows have pasts (and the array would
        # have max_lag + 1 entries).
        (dict(max_lag=5), "max_lag=5 is not below the 5 steps"),
        (dict(max_lag=10**12), "max_lag=1000000000000 is not below"),
    ],
)
def test_temporal_quantization_error_bad_input(kwargs, message):
    """Check clear errors for bad labels, lags and lengths."""
    args = dict(labels=[0, 1, 0, 0, 1], max_lag=1)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        temporal_quantization_error(np.zeros((5, 1)), **args)


# -- validation, errors and persistence ------------------------------------------------


@pytest.mark.parametrize(
    "lengths, message",
    [
        ([5, 4], "lengths sum to 9, but X has 8 rows"),
        ([8, 0], "must be positive"),
        ([10, -2], "must be positive"),
        ([5.0, 3.0], "must be integers"),
        ([True] * 8, "must be integers"),
        ([[5, 3]], "1-D array"),
        ([], "1-D array"),
        # Their int64 sum wraps round to 8: each length alone is too long.
        ([2**62, 2**62, 2**62, 2**62 + 8], "lengths sum to more than the 8 rows"),
        (np.array([2**63, 2**63 + 8], dtype=np.uint64), "lengths sum to more than the 8 rows"),
        ([1] * 9, "lengths sum to more than the 8 rows"),
    ],
)
def test_bad_lengths(lengths, message):
    """Check clear ValueErrors for lengths that do not describe X."""
    model = RecursiveSOM(map_size=(2, 3), max_iter=1)
    with pytest.raises(ValueError, match=re.escape(message)):
        model.fit(X_two, lengths=lengths)
    fitted = RecursiveSOM(map_size=(2, 3), max_iter=1).fit(X_two, lengths=LENGTHS_TWO)
    with pytest.raises(ValueError, match=re.escape(message)):
        fitted.predict(X_two, lengths)


def test_recursive_map_too_large():
    """Check that a RecSOM whose n_units x n_units contexts are too large fails before allocating."""
    with pytest.raises(ValueError, match=r"160000 units\) needs 102,400,000,000 bytes"):
        RecursiveSOM(map_size=(400, 400)).fit(X_two)
    # The merge context does not grow with the square of the map.
    assert sequence_module._RECURSIVE_MAX_BYTES < 400**4 * 4


def test_nan_and_sparse_rejected():
    """Check that missing values and sparse input are rejected clearly."""
    from scipy import sparse

    X = X_two.copy()
    X[2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        RecursiveSOM(map_size=(2, 3)).fit(X)
    with pytest.raises(TypeError, match="Sparse data"):
        RecursiveSOM(map_size=(2, 3)).fit(sparse.csr_matrix(X_two))


def test_rollback_on_failed_partial_fit(monkeypatch):
    """Check that an interrupted partial_fit leaves the fitted map unchanged."""
    model = RecursiveSOM(map_size=(2, 3), max_iter=2, random_state=0).fit(X_two, lengths=LENGTHS_TWO)
    before = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in vars(model).items()}

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    import sksom._engine as engine

    monkeypatch.setattr(engine, "predict_blocks", interrupted)
    with pytest.raises(KeyboardInterrupt):
        model.partial_fit(X_two, lengths=LENGTHS_TWO)
    assert set(vars(model)) == set(before)
    for key, value in before.items():
        np.testing.assert_array_equal(getattr(model, key), value)
    with pytest.raises(ValueError, match="lengths sum"):
        model.partial_fit(X_two, lengths=[1])
    np.testing.assert_array_equal(model.cluster_centers_, before["cluster_centers_"])


def test_pickle_round_trip(markov_model):
    """Check that a pickled map predicts and generates the same."""
    model = markov_model
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone.predict(X_markov), model.labels_)
    np.testing.assert_array_equal(clone.generate(50), model.generate(50))


@pytest.mark.parametrize("change", [{"map_size": (3, 3)}, {"topology": "hexagonal"}, {"periodic": True}])
def test_partial_fit_refuses_another_lattice(change):
    """Check that partial_fit refuses a map size, topology or periodicity other than the fitted map's."""
    model = RecursiveSOM(map_size=(2, 4), max_iter=1, random_state=0).fit(X_two, lengths=LENGTHS_TWO)
    model.set_params(**change)
    (name,) = change
    with pytest.raises(ValueError, match=f"{name}=.* differs from the fitted map's {name}="):
        model.partial_fit(X_two, lengths=LENGTHS_TWO)
    model.set_params(map_size=(2, 4), topology="rectangular", periodic=False).partial_fit(X_two, lengths=LENGTHS_TWO)
    assert model.n_iter_ == 2


def test_changed_context_is_refused_until_refit():
    """Check that partial_fit, predict, transform and generate refuse a context other than the fitted one."""
    model = RecursiveSOM(map_size=(2, 3), max_iter=1, random_state=0).fit(X_two, lengths=LENGTHS_TWO)
    contexts = model.contexts_.copy()
    model.set_params(context="merge")
    for call in (
        lambda: model.partial_fit(X_two, lengths=LENGTHS_TWO),
        lambda: model.predict(X_two, LENGTHS_TWO),
        lambda: model.transform(X_two),
        lambda: model.generate(3),
    ):
        with pytest.raises(ValueError, match="context='merge' differs from the fitted map's context='recursive'"):
            call()
    np.testing.assert_array_equal(model.contexts_, contexts)
    assert model.n_iter_ == 1
    # Back to the fitted context, everything works; fit starts a merge map.
    model.set_params(context="recursive").predict(X_two, LENGTHS_TWO)
    assert model.set_params(context="merge").fit(X_two).contexts_.shape == (6, 2)


@pytest.mark.parametrize("context", ["recursive", "merge"])
def test_values_whose_squares_overflow_or_underflow_are_rejected(context):
    """Check a clear error, not wrong BMUs, for data too large or too small to square."""
    model = RecursiveSOM(map_size=(2, 3), context=context, max_iter=1, random_state=0).fit(X_two)
    centers = model.cluster_centers_.copy()
    with pytest.raises(ValueError, match="too large to compute squared distances in float64"):
        model.predict(X_two * 1e200)
    with pytest.raises(ValueError, match="too large to compute squared distances in float64"):
        model.partial_fit(X_two * 1e160)
    np.testing.assert_array_equal(model.cluster_centers_, centers)
    with pytest.raises(ValueError, match="too small to compute squared distances in float32"):
        RecursiveSOM(map_size=(2, 3), context=context).fit((X_two * 1e-20).astype(np.float32))
    with pytest.raises(ValueError, match="radius_end=1e-20 is below"):
        RecursiveSOM(map_size=(2, 3), context=context, radius_end=1e-20).fit(X_two)


def test_transform_is_computed_in_the_wider_dtype_and_returned_in_xs():
    """Check transform's dtype rule: computed in the wider of X's and the map's, returned in X's."""
    X32 = X_two.astype(np.float32)
    model32 = RecursiveSOM(map_size=(2, 3), max_iter=1, random_state=0).fit(X32)
    # The float32 map promoted to float64, computed on float64 data.
    model64 = pickle.loads(pickle.dumps(model32))
    model64.cluster_centers_ = model32.cluster_centers_.astype(np.float64)
    model64.contexts_ = model32.contexts_.astype(np.float64)
    wide = model32.transform(X_two)
    assert wide.dtype == np.float64
    np.testing.assert_array_equal(wide, model64.transform(X_two))
    # A float64 map on float32 data: computed in float64, returned in float32.
    narrow = model64.transform(X32)
    assert narrow.dtype == np.float32
    np.testing.assert_array_equal(narrow, model64.transform(X32.astype(np.float64)).astype(np.float32))
    assert model32.transform(X32).dtype == np.float32


def test_lattice_pictures_that_need_each_rows_unit_refuse_a_sequence_map():
    """Check that hit_map and label_map, which cannot be told where sequences start, refuse a RecursiveSOM."""
    from sksom.maps import hit_map, label_map, u_matrix

    model = RecursiveSOM(map_size=(2, 3), max_iter=1, random_state=0).fit(X_two, lengths=LENGTHS_TWO)
    with pytest.raises(TypeError, match="hit_map takes a map whose best-matching unit of a row depends on that row alone"):
        hit_map(model, X_two)
    with pytest.raises(TypeError, match="label_map takes a map"):
        label_map(model, X_two, np.zeros(len(X_two)))
    # Pictures of the codebook alone still work.
    assert u_matrix(model).shape == (2, 3)


def test_plot_clusters_says_a_sequence_map_has_no_clusters():
    """Check that plot_clusters tells a RecursiveSOM user it has no n_clusters, rather than to set it."""
    from sksom.plotting import plot_clusters

    model = RecursiveSOM(map_size=(2, 3), max_iter=1, random_state=0).fit(X_two, lengths=LENGTHS_TWO)
    with pytest.raises(TypeError, match="a RecursiveSOM has no n_clusters"):
        plot_clusters(model)


def test_generate_arguments():
    """Check generate's start and n_steps validation and the start unit."""
    model = RecursiveSOM(map_size=(2, 3), max_iter=1, random_state=0).fit(X_two, lengths=LENGTHS_TWO)
    np.testing.assert_array_equal(model.generate(1, start=3)[0], model.cluster_centers_[3])
    with pytest.raises(ValueError, match="start must be a unit index"):
        model.generate(5, start=6)
    with pytest.raises(ValueError, match="n_steps must be a positive int"):
        model.generate(0)
    with pytest.raises(ValueError, match="n_steps must be a positive int"):
        model.generate(True)
    with pytest.raises(ValueError, match="start must be a unit index"):
        model.generate(3, start=True)
    with pytest.raises(ValueError, match="max_depth must be a positive int"):
        model.receptive_fields(X_two, LENGTHS_TWO, max_depth=True)
