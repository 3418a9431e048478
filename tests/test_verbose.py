"""verbose output: the same lines, in the same order, as scikit-learn's MLP for the same
settings; with progress_bar=True the lines stay apart from the bar."""

import io
import re
import warnings
from contextlib import redirect_stderr, redirect_stdout

import numpy as np
import pytest
from sklearn import neural_network as sknn
from sklearn.datasets import load_diabetes, load_digits

from bpcore import MLPClassifier, MLPRegressor


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16, y[:600]


def lines_of(cls, X, y, **params):
    buffer = io.StringIO()
    with warnings.catch_warnings(), redirect_stdout(buffer):
        warnings.simplefilter("ignore")
        cls(random_state=0, **params).fit(X, y)
    return buffer.getvalue().splitlines()


def kinds(lines):
    """Each line as (kind, epoch or message): the loss and score digits left out."""
    out = []
    for line in lines:
        iteration = re.fullmatch(r"Iteration (\d+), loss = \d+\.\d{8}", line)
        if iteration:
            out.append(("iteration", int(iteration.group(1))))
        elif re.fullmatch(r"Validation score: -?\d+\.\d{6}", line):
            out.append(("validation", None))
        else:
            out.append(("message", line))
    return out


SETTINGS = {
    "training loss": dict(tol=0.05, n_iter_no_change=2),
    "early stopping": dict(tol=0.05, n_iter_no_change=2, early_stopping=True),
    "adaptive rate": dict(solver="sgd", learning_rate="adaptive", learning_rate_init=0.5,
                          tol=0.5, n_iter_no_change=1),
    "adaptive, early stopping": dict(solver="sgd", learning_rate="adaptive",
                                     learning_rate_init=0.5, tol=0.5, n_iter_no_change=1,
                                     early_stopping=True),
    "max_iter": dict(max_iter=4),
}


@pytest.mark.parametrize("verbose", [1, 2, True])
@pytest.mark.parametrize("setting", SETTINGS)
def test_lines_like_scikit_learns(digits, setting, verbose):
    X, y = digits
    params = dict(hidden_layer_sizes=(16,), max_iter=40, verbose=verbose)
    params.update(SETTINGS[setting])
    ours = lines_of(MLPClassifier, X, y, **params)
    theirs = lines_of(sknn.MLPClassifier, X, y, **params)
    assert kinds(ours) == kinds(theirs)
    messages = [text for kind, text in kinds(ours) if kind == "message"]
    # each setting ends with a stopping rule's message, except max_iter
    if setting == "max_iter":
        assert messages == [] and kinds(ours)[-1] == ("iteration", 4)
    else:
        assert messages[-1].endswith("Stopping.")
        assert kinds(ours)[-2][0] in ("iteration", "validation")   # after the epoch's lines
    if "adaptive" in setting:
        assert any("Setting learning rate to" in m for m in messages)


def test_regressor_lines_like_scikit_learns(digits):
    X, y = digits
    y = y.astype(float)
    params = dict(hidden_layer_sizes=(8,), max_iter=40, tol=0.5, n_iter_no_change=2,
                  verbose=1, early_stopping=True)
    ours = lines_of(MLPRegressor, X, y, **params)
    assert kinds(ours) == kinds(lines_of(sknn.MLPRegressor, X, y, **params))
    assert ours[-1].startswith("Validation score did not improve")


def test_no_lines_without_verbose(digits, capfd):
    X, y = digits
    MLPClassifier((8,), max_iter=3, tol=10.0, n_iter_no_change=1, random_state=0).fit(X, y)
    out, err = capfd.readouterr()
    assert out == ""


def test_stopping_message_after_its_epoch_without_tqdm(digits, without_tqdm):
    X, y = digits
    params = dict(hidden_layer_sizes=(16,), max_iter=40, verbose=1, tol=0.05,
                  n_iter_no_change=2, early_stopping=True)
    with_bar = lines_of(MLPClassifier, X, y, progress_bar=True, **params)
    # verbose already prints a line per epoch: the plain progress lines stay out
    assert with_bar == lines_of(MLPClassifier, X, y, **params)
    assert kinds(with_bar) == kinds(lines_of(sknn.MLPClassifier, X, y, **params))
    assert with_bar[-1].endswith("Stopping.")


def test_messages_on_their_own_lines_beside_a_tqdm_bar(digits, capfd):
    pytest.importorskip("tqdm")
    X, y = digits
    params = dict(hidden_layer_sizes=(16,), max_iter=40, verbose=1, tol=0.05,
                  n_iter_no_change=2, early_stopping=True, random_state=0)
    capfd.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        MLPClassifier(**params).fit(X, y)
    plain = capfd.readouterr().out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MLPClassifier(progress_bar=True, **params).fit(X, y)
    out, err = capfd.readouterr()
    # the messages: whole lines on stdout, the same as without the bar
    assert out == plain
    assert kinds(out.splitlines())[-1][1].endswith("Stopping.")
    # the bar: on stderr, counting the epochs, with none of the messages in it
    assert f"{model.n_iter_}/40" in err
    assert "Iteration" not in err and "Validation score" not in err
    assert "Stopping" not in err


def terminal_lines(text):
    """The lines a terminal shows for `text`: a carriage return moves back to the line's
    start, and what follows overwrites what was there."""
    shown = []
    for line in text.split("\n"):
        visible = ""
        for part in line.split("\r"):
            visible = part + visible[len(part):]
        shown.append(visible.rstrip())
    return shown


def test_messages_not_inside_the_bar_on_a_shared_terminal(digits):
    pytest.importorskip("tqdm")
    X, y = digits
    params = dict(hidden_layer_sizes=(16,), max_iter=40, verbose=1, tol=0.05,
                  n_iter_no_change=2, early_stopping=True)
    plain = lines_of(MLPClassifier, X, y, **params)
    terminal = io.StringIO()        # stdout and stderr on one terminal
    with warnings.catch_warnings(), redirect_stdout(terminal), redirect_stderr(terminal):
        warnings.simplefilter("ignore")
        MLPClassifier(progress_bar=True, random_state=0, **params).fit(X, y)
    shown = terminal_lines(terminal.getvalue())
    messages = [line for line in shown if re.search("Iteration|Validation|Stopping", line)]
    assert messages == plain


def test_plateau_message_after_the_epochs_lines(digits):
    X, y = digits
    lines = lines_of(MLPClassifier, X, y, hidden_layer_sizes=(8,), max_iter=12, verbose=1,
                     lr_schedule="plateau", plateau_patience=0, plateau_factor=0.5,
                     learning_rate_init=0.5, n_iter_no_change=np.inf)
    ordered = kinds(lines)
    plateau = [i for i, (kind, text) in enumerate(ordered)
               if kind == "message" and text.startswith("No improvement for 1 epochs")]
    assert plateau
    for i in plateau:
        assert ordered[i - 1][0] == "iteration"


def test_warnings_name_the_callers_line(digits):
    X, y = digits
    with pytest.warns(Warning) as record:
        MLPClassifier((8,), max_iter=2, random_state=0).fit(X, y)                # max_iter
        MLPClassifier((8,), solver="lbfgs", max_iter=2, random_state=0).fit(X, y)
        X_d, y_d = load_diabetes(return_X_y=True)                       # unscaled targets
        MLPRegressor(hidden_layer_sizes=(32, 32, 32), solver="sgd", learning_rate_init=0.05,
                     max_iter=20, random_state=0).fit(X_d / X_d.std(0), y_d)  # diverges
    kinds = {type(w.message).__name__ for w in record}
    assert kinds == {"ConvergenceWarning", "TrainingDivergedWarning"}, kinds
    for w in record:
        assert w.filename == __file__, (w.filename, w.message)


WARNING_SCRIPT = """
import warnings
from sklearn.datasets import load_diabetes, load_digits
from bpcore import MLPClassifier
X, y = load_digits(return_X_y=True)
warnings.simplefilter("always")
MLPClassifier((8,), max_iter=3, progress_bar=True, random_state=0).fit(X[:300] / 16, y[:300])
"""


@pytest.mark.slow                      # a Python process of its own
def test_a_warning_after_the_bar_is_a_line_of_its_own(tmp_path):
    pytest.importorskip("tqdm")
    import subprocess
    import sys

    script = tmp_path / "fit.py"
    script.write_text(WARNING_SCRIPT)
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # what a terminal shows: the bar's redraws (carriage returns) end before the warning
    shown = [line.split("\r")[-1] for line in result.stderr.split("\n")]
    warning = [line for line in shown if "ConvergenceWarning" in line]
    assert len(warning) == 1 and warning[0].startswith(str(script)), shown
    bar = [line for line in shown if "3/3" in line]
    assert bar and shown.index(bar[-1]) < shown.index(warning[0])


def test_partial_fit_bar_counts_its_one_epoch(digits, capfd):
    pytest.importorskip("tqdm")
    X, y = digits
    model = MLPClassifier((8,), progress_bar=True, random_state=0)
    model.partial_fit(X, y, classes=np.unique(y))
    bar = capfd.readouterr().err.split("\r")[-1]
    assert "1/1" in bar and "/200" not in bar, bar
