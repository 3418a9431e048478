"""The estimators' documentation, each entry written once.

Every constructor parameter and fitted attribute of MLPClassifier and MLPRegressor has
one numpydoc entry here, written for both unless only one has it, and the two share
their Notes; `estimator_docstring` assembles a class's docstring from them, parameters
in the order of its ``__init__`` signature, with each default read from that
signature.  `attribute_doc` gives the same text to the attributes that are
properties.  ``DOCS_URL`` is the documentation site; the estimators' HTML
representation links its "?" icon to their API pages there.
"""

from __future__ import annotations

import inspect
import textwrap

#: The documentation site (the stable release's pages).
DOCS_URL = "https://bpcore.readthedocs.io/en/latest/"

#: An estimator's API page, in the fields of scikit-learn's ``_doc_link_template``.
API_PAGE_TEMPLATE = DOCS_URL + "api/generated/{estimator_module}.{estimator_name}.html"

# name -> (type, description).  The type is followed by ", default=<the signature's
# default>" unless it is None; parameters beyond scikit-learn's follow its own.
PARAMETERS = {
    "hidden_layer_sizes": ("int or sequence of int", """
        Width of each hidden layer, from the input side: ``(64, 32)`` makes two hidden
        layers. An int makes one."""),
    "activation": ("{'identity', 'logistic', 'tanh', 'relu', 'leaky_relu', 'elu', "
                   "'gelu', 'softplus', 'swish'}", """
        Activation σ(z) of the hidden units:

        - 'identity': z.
        - 'logistic': 1 / (1 + exp(-z)).
        - 'tanh': tanh(z).
        - 'relu': max(z, 0).
        - 'leaky_relu': z for z > 0, else 0.01 z.
        - 'elu': z for z > 0, else exp(z) - 1.
        - 'gelu': z Φ(z), Φ the standard normal distribution function (exact, with
          erf).
        - 'softplus': log(1 + exp(z)).
        - 'swish': z / (1 + exp(-z)) (also called SiLU).

        The output layer's activation follows from the task and the loss
        (`out_activation_`)."""),
    "solver": ("{'lbfgs', 'sgd', 'adam'}", """
        'lbfgs': scipy's L-BFGS-B on the flat parameter vector, every sample in each
        evaluation. 'sgd': mini-batch gradient descent with momentum. 'adam': mini-batch
        Adam (Kingma and Ba). Only 'sgd' and 'adam' have epochs, and with them
        `partial_fit`, validation scores and the options marked as theirs; with
        'lbfgs', bpcore's options of the steps and epochs (dropout, clipping,
        weight decay, schedules, averaging, `param_change_tol`, callbacks, the
        progress bar) are refused rather than ignored."""),
    "alpha": ("float", """
        Strength of the L2 penalty: each batch's loss adds α ‖W‖² / (2 Σw), ‖W‖² the
        sum of the squared entries of `coefs_` and Σw the sum of the batch's sample
        weights (its number of rows without weights)."""),
    "batch_size": ("int, 'auto' or 'full'", """
        Rows per mini-batch of 'sgd' and 'adam': 'auto' is min(200, n_samples),
        'full' all the rows in one batch; an int above n_samples is clipped to it,
        with a warning."""),
    "learning_rate": ("{'constant', 'invscaling', 'adaptive'}", """
        Step-size rule of 'sgd' ('adam' keeps `learning_rate_init`).
        'constant': η = `learning_rate_init`. 'invscaling': after each epoch
        η = learning_rate_init / (t + 1)^power_t, t the samples seen (`t_`).
        'adaptive': η stays until the stopping rule (see `tol`) fires; then, while η
        is above 1e-6, η is divided by 5 and training goes on, and otherwise it
        stops."""),
    "learning_rate_init": ("float", """
        Initial step size of 'sgd' and 'adam'."""),
    "power_t": ("float", """
        Exponent of learning_rate='invscaling'."""),
    "max_iter": ("int", """
        Most epochs of 'sgd' and 'adam' (each `partial_fit` call runs one), or most
        iterations of 'lbfgs'. A stochastic fit that runs all of them without meeting
        the stopping rule warns with a ConvergenceWarning; the schedules of
        `lr_schedule` span `max_iter` epochs."""),
    "shuffle": ("bool", """
        Visit the samples in a new random order every epoch ('sgd' and 'adam')."""),
    "random_state": ("int, RandomState instance or None", """
        Source of every random draw: the initial parameters, the shuffling, the
        early-stopping split and the dropout masks. An int makes fits reproducible.
        With scikit-learn's options only (init='glorot_uniform', no dropout, embedding
        or ensemble), the initial weights, the order of the samples and the split are
        the ones scikit-learn's MLP draws for the same int."""),
    "tol": ("float", """
        Least improvement that counts. The stopping rule of 'sgd' and 'adam': the fit
        stops when, for more than `n_iter_no_change` consecutive epochs, the training
        loss stayed above its best minus tol (with `early_stopping`, the validation
        score stayed below its best plus tol). For 'lbfgs', the gradient tolerance of
        L-BFGS-B (scipy's ``gtol``)."""),
    "verbose": ("int", """
        When not 0 (True counts as 1), print progress to stdout in scikit-learn's
        format, the same lines at every level: "Iteration k, loss = ..." after each
        epoch, "Validation score: ..." when there is validation data, and the message
        of the rule that stops the fit (or changes the learning rate) after the
        epoch's lines. 'lbfgs' prints one line with its iterations and final loss.
        With `progress_bar`, the lines are written above the bar."""),
    "warm_start": ("bool", """
        Make `fit` continue from the fitted model's parameters and append to its
        history (`loss_curve_`, `t_`), instead of starting afresh. The layer sizes,
        the classes and the options that shape the network must stay the same."""),
    "momentum": ("float", """
        Momentum of 'sgd', in [0, 1]."""),
    "nesterovs_momentum": ("bool", """
        Use Nesterov's momentum with 'sgd' (when momentum > 0)."""),
    "early_stopping": ("bool", """
        With 'sgd' and 'adam': hold out `validation_fraction` of the training data
        (stratified for binary classification), score it after every epoch (see
        `scoring`) and stop by the rule of `tol` on that score; the parameters of the
        best-scoring epoch become the model. Validation data given to `fit` (X_val,
        y_val) replaces the split. Not with `partial_fit`."""),
    "validation_fraction": ("float", """
        Fraction of the training data held out by `early_stopping`; at least two rows
        must result."""),
    "beta_1": ("float", """
        Decay rate of Adam's estimate of the gradient's mean, in [0, 1)."""),
    "beta_2": ("float", """
        Decay rate of Adam's estimate of the gradient's second moment, in [0, 1)."""),
    "epsilon": ("float", """
        Adam's term added to the square root of the second-moment estimate."""),
    "n_iter_no_change": ("int", """
        Epochs without improvement that the stopping rule of `tol` tolerates: the fit
        stops at the next. ``np.inf`` turns the rule off. 'sgd' and 'adam' only."""),
    "max_fun": ("int", """
        Most loss evaluations of 'lbfgs'."""),
    "init": ("{'glorot_uniform', 'he_normal', 'he_uniform', 'lecun_normal'}", """
        Initial weights and biases. 'glorot_uniform' draws both from U(-b, b), b =
        √(f / (fan_in + fan_out)), f = 2 for 'logistic' and 6 otherwise (scikit-learn's
        rule and draws). 'he_normal': N(0, 2 / fan_in); 'he_uniform': U(-b, b), b =
        √(6 / fan_in); 'lecun_normal': N(0, 1 / fan_in); these three start the biases
        at 0."""),
    "dropout": ("float or sequence of float", """
        Probability, in [0, 1), that a hidden unit's output is dropped in a training
        step of 'sgd' or 'adam': one value for every hidden layer, or one per hidden
        layer. The kept outputs are scaled by 1 / (1 - p) (inverted dropout), so
        prediction uses the whole network unchanged. The masks follow
        `random_state`, whatever the number of threads."""),
    "clip_norm": ("float or None", """
        Rescale each batch's gradient so that its norm (over all the parameters) is at
        most this ('sgd' and 'adam')."""),
    "clip_value": ("float or None", """
        Clamp each entry of each batch's gradient to [-clip_value, clip_value], after
        `clip_norm` ('sgd' and 'adam')."""),
    "param_change_tol": ("float or None", """
        A second stopping rule of 'sgd' and 'adam': stop after an epoch in which no
        parameter moved by param_change_tol or more."""),
    "callbacks": ("list of callable or None", """
        Functions called as ``f(model, info)`` after every epoch of 'sgd' or 'adam',
        ``info`` a dict with the keys 'epoch', 'loss', 'validation_score',
        'validation_loss', 'gradient_norms', 'weight_norms', 'dead_units',
        'learning_rate' (the last step's) and 'seconds' (the epoch's). Returning True
        stops the fit after that epoch. Changes a callback makes in place to `coefs_`
        or `intercepts_` are what the next epoch trains. A callback must not fit its
        model (RuntimeError)."""),
    "progress_bar": ("bool", """
        Show the progress of 'sgd' and 'adam' over the epochs, with the loss and the
        validation score: a tqdm bar when tqdm is installed, otherwise one line per
        epoch (unless `verbose` already prints one)."""),
    "weight_decay": ("float", """
        Decoupled weight decay λ ('adam' becomes AdamW, 'sgd' SGDW): before each step
        the weights (`coefs_`, not the biases) are multiplied by 1 - η λ, η the step's
        learning rate. It acts besides `alpha`, which enters the gradient.
        learning_rate_init × weight_decay must be below 1."""),
    "lr_schedule": ("{None, 'cosine', 'one_cycle', 'plateau'}", """
        The learning rate of every step of 'sgd' and 'adam', from η =
        `learning_rate_init`. None: η (or the rule of `learning_rate`). 'cosine':
        after a warm-up of W steps, η (1 + cos(π (s - W) / (S - W))) / 2 at step s, S
        the steps of `max_iter` epochs, and 0 from step S on (further `partial_fit`
        calls). 'one_cycle': a half-cosine rise from η / 25 to η over the warm-up (30 %
        of the steps unless `warmup_epochs` is set), then a half-cosine fall to
        η / (25 × 10⁴) at the last step; the momentum does not cycle. 'plateau': η is
        multiplied by `plateau_factor` after more than `plateau_patience` epochs in
        which the validation loss (the training loss without validation data) did not
        fall below its best by a relative 1e-4; keep `plateau_patience` below
        `n_iter_no_change`, or the fit stops first. With 'sgd', `learning_rate` must
        be 'constant'."""),
    "warmup_epochs": ("float", """
        Warm-up of 'sgd' and 'adam' over the first W = warmup_epochs × (batches per
        epoch) steps: step s (counted from 0) runs at (s + 1) / W times its rate while
        s < W (with 'cosine', W is at most all steps but the last; with 'one_cycle',
        W is its rise)."""),
    "plateau_patience": ("int", """
        Epochs without improvement that lr_schedule='plateau' tolerates before it
        lowers the rate."""),
    "plateau_factor": ("float", """
        What lr_schedule='plateau' multiplies the rate by, in (0, 1)."""),
    "ema_decay": ("float or None", """
        With 'sgd' and 'adam', keep an exponential moving average of the parameters,
        θ̄ ← d θ̄ + (1 - d) θ after every step, starting from θ̄ = θ at the first, d =
        ema_decay in (0, 1). The average is the model: prediction, validation and
        early stopping use it; `loss_curve_` stays the training loss of the trained
        parameters."""),
    "scoring": ("None, 'loss', str or callable", """
        The validation score (`validation_scores_`, early stopping): None, the
        estimator's `score`; 'loss', the validation loss negated; a name of
        ``sklearn.metrics.get_scorer_names()`` or a callable ``scorer(estimator, X,
        y)``, given ``sample_weight=`` when the validation data has weights. When early
        stopping finds no finite score in any epoch, the last epoch's parameters are
        kept, with a warning."""),
    "normalization": ("{None, 'batch', 'layer'}", """
        Normalize each hidden layer's pre-activations z = a W + b before its
        activation: ẑ = (z - μ) / √(σ² + 10⁻⁵), then σ(γ ẑ + β), with a learned scale γ
        (from 1) and shift β (from 0) per unit (`norm_scales_`, `norm_shifts_`,
        neither decayed nor penalized). 'layer': μ and σ² over each row's units, the
        same in training and prediction. 'batch': μ and σ² of each unit over the
        batch's rows, weighted by the sample weights; prediction uses running
        statistics (`running_means_`, `running_vars_`), updated after each batch as
        r ← 0.9 r + 0.1 (the batch's), the variance unbiased (× (Σw)² / ((Σw)² - Σw²),
        n / (n - 1) without weights) and continued by `partial_fit`, as torch's
        BatchNorm1d. A batch needs two rows of positive weight: batch_size=1 is
        refused, an epoch's last batch of one row is skipped, and an epoch with no
        such batch is an error. 'lbfgs' normalizes over all the rows and keeps their
        statistics as the running ones."""),
    "residual": ("bool", """
        Skip connections: every hidden layer after the first whose width equals its
        input's adds its input to its output, a = a_prev + dropout(σ(norm(a_prev W +
        b))). `hidden_layer_sizes` must have two consecutive layers of equal width."""),
    "embedding": ("{None, 'periodic'}", """
        'periodic': embed every column x of X, as relu([sin(2π c x), cos(2π c x)] W +
        b), with its own k = `n_frequencies` frequencies c (drawn from N(0,
        frequency_scale²); `embedding_frequencies_`), W of shape (2k, d)
        (`embedding_weights_`) and b of d = `embedding_dim` values
        (`embedding_biases_`), all trained with the network, whose first layer takes
        the n_features × d values (the PLR embeddings of Gorishniy et al., 2022).
        Dense X only; suits numeric features scaled beforehand. `alpha` and
        `weight_decay` act on `coefs_` only."""),
    "n_frequencies": ("int", """
        Frequencies per column of embedding='periodic'."""),
    "embedding_dim": ("int", """
        Values per column of embedding='periodic'."""),
    "frequency_scale": ("float", """
        Standard deviation of the initial frequencies of embedding='periodic'; larger
        values let the network fit sharper functions of each column."""),
    "n_members": ("int", """
        k > 1 trains k networks that share every weight matrix W, as one ensemble
        (BatchEnsemble, as in TabM, Gorishniy et al., 2025): member m computes ((a ∘
        rₘ) W) ∘ sₘ + bₘ with its own input and output scalings rₘ, sₘ
        (`member_input_scales_`, `member_output_scales_`) and biases (`intercepts_[l]`
        has shape (k, n_out)). The training loss is the members' mean, and the
        prediction is the mean of their outputs (the class probabilities, for a
        classifier); `predict_members` returns each member's. The first layer's rₘ
        start as random signs, the other scalings at 1, and all members with the same
        biases. Dense X only; not with normalization='batch'."""),
    # MLPClassifier only
    "class_weight": ("dict, 'balanced' or None", """
        Weights of the classes, ``{label: weight}``, multiplied into `sample_weight`.
        'balanced' weighs class c by n_samples / (n_classes × n_c); it needs all the
        data, so `partial_fit` refuses it. Not for multilabel targets."""),
    "label_smoothing": ("float", """
        Train on smoothed targets y (1 - ε) + ε / K, ε = label_smoothing in [0, 1), K
        the number of classes (softmax output) or 2 (each logistic output).
        `loss_curve_` is the smoothed loss; validation scores the labels as they
        are."""),
    # MLPRegressor only
    "loss": ("{'squared_error', 'poisson', 'absolute_error', 'huber', 'quantile'}", """
        The loss of each output, with r = y - prediction, summed over the outputs and
        averaged over the samples: 'squared_error' r² / 2; 'poisson' the half Poisson
        deviance, with an exponential output (y must be >= 0); 'absolute_error' `|r|`;
        'huber' r² / 2 for `|r| <= δ`, else `δ (|r| - δ / 2)`, δ = `huber_delta`;
        'quantile' the pinball loss max(q r, (q - 1) r) of each quantile q of
        `quantile`. The output activation is the identity except for 'poisson'. For
        'squared_error', `loss_` also averages over the outputs, as scikit-learn
        reports it."""),
    "huber_delta": ("float", """
        δ of loss='huber', where the loss turns from quadratic to linear."""),
    "quantile": ("float or sequence of float", """
        The quantile(s) of loss='quantile', each in (0, 1). With k > 1 quantiles the
        network has k outputs per target: `predict` returns shape (n_samples, k), or
        (n_samples, n_targets, k), and `score` is the mean over the quantiles of D²
        (``sklearn.metrics.d2_pinball_score``)."""),
}

# name -> (type, description), in the order of the Attributes section.  An estimator's
# own entries (_CLASSIFIER_ATTRIBUTES, _REGRESSOR_ATTRIBUTES) replace or add to these.
ATTRIBUTES = {
    "loss_": ("float", """
        Training loss of the last epoch: the mean over its samples of the loss each
        batch had before its step, with the `alpha` penalty; for 'lbfgs', the loss at
        the solution."""),
    "best_loss_": ("float or None", """
        Lowest value of `loss_curve_`; None with `early_stopping`. 'sgd' and 'adam'
        only (absent for 'lbfgs', as are the other attributes that follow epochs)."""),
    "loss_curve_": ("list of float", """
        Training loss after each epoch, across `partial_fit` and `warm_start` calls.
        'sgd' and 'adam' only."""),
    "validation_scores_": ("list of float or None", """
        Validation score (see `scoring`) after each epoch, with early stopping or
        validation data given to `fit`; otherwise None. 'sgd' and 'adam' only."""),
    "best_validation_score_": ("float or None", """
        Best of `validation_scores_`; None when that is None."""),
    "t_": ("int", """
        Training samples seen by the solver, over the epochs (0 for 'lbfgs')."""),
    "coefs_": ("list of ndarray", """
        ``coefs_[i]`` is the weight matrix from layer i to layer i + 1, of shape
        (n_in, n_out); with `embedding`, ``coefs_[0]`` has n_features ×
        embedding_dim rows (feature by feature). The arrays are views of the
        model's flat parameter vector: editing one in place edits the model; an array
        assigned to ``coefs_[i]`` is used (converted to the model's dtype) from the
        next prediction or fit."""),
    "intercepts_": ("list of ndarray", """
        ``intercepts_[i]`` is the bias vector of layer i + 1, of shape (n_out,), or
        (n_members, n_out) with `n_members` > 1; views of the parameter vector, as
        `coefs_`."""),
    "n_features_in_": ("int", """
        Number of columns of X seen in `fit`."""),
    "feature_names_in_": ("ndarray of shape (n_features,)", """
        Column names of X seen in `fit`, when they are all strings (a pandas
        DataFrame's); absent otherwise."""),
    "n_iter_": ("int", """
        Epochs run by the last call to `fit` or `partial_fit` (1 for `partial_fit`),
        or iterations of 'lbfgs'."""),
    "n_layers_": ("int", """
        Number of layers, the input and output layers included:
        len(hidden_layer_sizes) + 2."""),
    "n_outputs_": ("int", """
        Number of output units."""),
    "out_activation_": ("str", """
        The output layer's activation."""),
    "validation_loss_curve_": ("list of float or None", """
        Validation loss after each epoch, when `validation_scores_` is a list;
        otherwise None."""),
    "gradient_norms_": ("ndarray of shape (n_epochs, n_layers - 1)", """
        For each epoch of `loss_curve_` and each layer, the root mean square over the
        epoch's batches of the norm of the gradient of the layer's weights and biases:
        vanishing gradients show as small first columns. No rows for 'lbfgs'."""),
    "weight_norms_": ("ndarray of shape (n_epochs, n_layers - 1)", """
        Norm of each layer's weight matrix at the end of each epoch."""),
    "dead_units_": ("ndarray of shape (n_epochs, n_layers - 2)", """
        Fraction of each hidden layer's units whose output was never positive during
        the epoch (for 'relu' and 'leaky_relu'; NaN for the other activations)."""),
    "norm_scales_": ("tuple of ndarray", """
        With `normalization`: γ of each hidden layer, of shape (n_units,); views of
        the parameter vector, edited in place as `coefs_`. Absent otherwise
        (AttributeError), as are the other attributes of options not in use."""),
    "norm_shifts_": ("tuple of ndarray", """
        With `normalization`: β of each hidden layer, of shape (n_units,)."""),
    "running_means_": ("tuple of ndarray", """
        With normalization='batch': each hidden layer's running mean, of shape
        (n_units,)."""),
    "running_vars_": ("tuple of ndarray", """
        With normalization='batch': each hidden layer's running variance, of shape
        (n_units,)."""),
    "embedding_frequencies_": ("ndarray of shape (n_features, n_frequencies)", """
        With embedding='periodic': the frequencies c of each column; a view of the
        parameter vector."""),
    "embedding_weights_": (
        "ndarray of shape (n_features, 2 * n_frequencies, embedding_dim)", """
        With embedding='periodic': W of each column."""),
    "embedding_biases_": ("ndarray of shape (n_features, embedding_dim)", """
        With embedding='periodic': b of each column."""),
    "member_input_scales_": ("tuple of ndarray", """
        With `n_members` = k > 1: each layer's input scalings rₘ, of shape (k, n_in);
        views of the parameter vector."""),
    "member_output_scales_": ("tuple of ndarray", """
        With `n_members` = k > 1: each layer's output scalings sₘ, of shape (k,
        n_out)."""),
}

_CLASSIFIER_ATTRIBUTES = {
    "classes_": ("ndarray of shape (n_classes,)", """
        The class labels (for multilabel targets, the column indices)."""),
    "out_activation_": ("str", """
        'softmax' (multiclass targets) or 'logistic' (binary and multilabel)."""),
    "n_outputs_": ("int", """
        Number of output units: n_classes for multiclass and multilabel targets, 1 for
        binary."""),
}

_REGRESSOR_ATTRIBUTES = {
    "out_activation_": ("str", """
        'exp' with loss='poisson', else 'identity'."""),
    "n_outputs_": ("int", """
        Number of output units: the number of targets, times the number of quantiles
        with loss='quantile'."""),
}

# What both estimators' docstrings end with: the See Also entries after each one's own,
# and the Notes section.
SEE_ALSO = """
bpcore.loss_gradient : The loss and every layer's gradients at a fitted model.
bpcore.check_gradients : Compare the gradients with finite differences.
bpcore.plot.plot_training : Plot the loss curves and gradient norms of a fit."""

NOTES = """
Training runs as many OpenMP threads as OpenMP's settings allow
(``OMP_NUM_THREADS``, ``threadpoolctl.threadpool_limits``), at most the CPUs the
process may use (`bpcore.effective_n_threads`); BLAS runs on one thread meanwhile.
float32 X trains and predicts in float32, any other X in float64.

A stochastic fit whose loss or gradient becomes non-finite stops, keeps the
parameters of its last complete epoch and warns (`TrainingDivergedWarning`); in
the first epoch of a fit from scratch it raises ValueError instead. Ctrl-C
(KeyboardInterrupt) ends a fit the same way, with a UserWarning. A prediction made
while another thread fits the model uses the model of a complete epoch."""


_OWN_PARAMETERS = {
    "MLPClassifier": ("class_weight", "label_smoothing"),
    "MLPRegressor": ("loss", "huber_delta", "quantile"),
}


def _text(text):
    return textwrap.dedent(text).strip()


def _entry(name, type_, description):
    body = _text(description)
    return f"{name} : {type_}\n" + textwrap.indent(body, "    ")


def parameters_section(cls):
    """The Parameters section of `cls`: one entry per ``__init__`` parameter, in the
    signature's order, with the signature's default."""
    others = {name for own in _OWN_PARAMETERS.values() for name in own}
    mine = set(_OWN_PARAMETERS.get(cls.__name__, ()))
    entries = []
    for name, parameter in inspect.signature(cls.__init__).parameters.items():
        if name == "self":
            continue
        if name in others and name not in mine:
            raise KeyError(f"{name} is documented as another estimator's parameter")
        type_, description = PARAMETERS[name]
        entries.append(_entry(name, f"{type_}, default={parameter.default!r}",
                              description))
    return "Parameters\n----------\n" + "\n".join(entries)


def attributes(cls_name):
    """The attribute entries of an estimator: name -> (type, description)."""
    own = {"MLPClassifier": _CLASSIFIER_ATTRIBUTES,
           "MLPRegressor": _REGRESSOR_ATTRIBUTES}.get(cls_name, {})
    merged = {name: own.get(name, entry) for name, entry in ATTRIBUTES.items()}
    extra = {name: entry for name, entry in own.items() if name not in merged}
    return {**extra, **merged}


def attributes_section(cls_name):
    entries = [_entry(name, *entry) for name, entry in attributes(cls_name).items()]
    return "Attributes\n----------\n" + "\n".join(entries)


def attribute_doc(name):
    """The description of a fitted attribute (for the properties that implement it)."""
    type_, description = ATTRIBUTES[name]
    return f"{type_}\n\n" + _text(description)


def estimator_docstring(cls, summary, see_also, examples):
    """`cls`'s docstring: `summary` (its first paragraphs), the Parameters and
    Attributes sections, See Also (`see_also`, then SEE_ALSO), Notes and Examples."""
    parts = [_text(summary), parameters_section(cls), attributes_section(cls.__name__),
             "See Also\n--------\n" + _text(see_also) + "\n" + _text(SEE_ALSO),
             "Notes\n-----\n" + _text(NOTES), "Examples\n--------\n" + _text(examples)]
    return "\n\n".join(parts) + "\n"


def document(summary, see_also, examples):
    """Class decorator: set the class's docstring from `estimator_docstring`."""

    def decorate(cls):
        cls.__doc__ = estimator_docstring(cls, summary, see_also, examples)
        return cls

    return decorate
