"""The documentation the package carries: its docstring examples run, the estimators'
numpydoc sections match their signatures and fitted attributes, the HTML
representation links to the API pages, and no docstring or message speaks of
project-internal matters."""

import doctest
import importlib
import importlib.util
import inspect
import pathlib
import pkgutil
import re
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import bpcore
from bpcore import MLPClassifier, MLPRegressor, TrainingDivergedWarning
from bpcore._docstrings import DOCS_URL

ESTIMATORS = [MLPClassifier, MLPRegressor]

# modules whose import needs an optional dependency that may be missing
OPTIONAL = {"bpcore.onnx": "onnx", "bpcore.plot": "matplotlib"}


def public_modules():
    """Every module of the imported (installed or source) bpcore package."""
    names = ["bpcore"] + [f"bpcore.{info.name}" for info in pkgutil.iter_modules(bpcore.__path__)]
    return sorted(names)


def run_examples(name):
    """Run the docstring examples of module `name`; fail on any failure."""
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    report = []
    attempted = 0
    for test in finder.find(module, name):
        with warnings.catch_warnings():
            # an example's fit neither fails to converge nor diverges
            warnings.simplefilter("error", ConvergenceWarning)
            warnings.simplefilter("error", TrainingDivergedWarning)
            result = runner.run(test, out=report.append)
        attempted += result.attempted
        assert result.failed == 0, "".join(report)
    return attempted


@pytest.mark.parametrize("name", public_modules())
def test_docstring_examples_run(name):
    if name in OPTIONAL:
        pytest.importorskip(OPTIONAL[name])
    run_examples(name)


@pytest.mark.parametrize("n_threads", [1, 2])
def test_estimator_examples_on_one_and_two_threads(n_threads):
    with threadpool_limits(limits=n_threads, user_api="openmp"):
        assert bpcore.effective_n_threads() <= n_threads
        assert run_examples("bpcore._estimators") > 10


def test_estimator_examples_exist():
    finder = doctest.DocTestFinder()
    for cls in ESTIMATORS:
        examples = [t for t in finder.find(cls, cls.__name__) if t.examples]
        assert examples and examples[0].name == cls.__name__, cls


# ------------------------------------------------------------------ numpydoc sections
@pytest.fixture
def docscrape():
    return pytest.importorskip("numpydoc.docscrape")


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_parameters_section_matches_signature(cls, docscrape):
    doc = docscrape.ClassDoc(cls)
    documented = doc["Parameters"]
    names = [p.name for p in documented]
    signature = [n for n in inspect.signature(cls.__init__).parameters if n != "self"]
    assert names == signature
    for parameter in documented:
        assert parameter.type.strip(), parameter.name
        assert " ".join(parameter.desc).strip(), parameter.name
    # each default stated is the signature's
    defaults = {n: p.default for n, p in inspect.signature(cls).parameters.items()}
    for parameter in documented:
        assert parameter.type.endswith(f"default={defaults[parameter.name]!r}"), parameter


def test_parameter_sets_differ_only_by_the_task(docscrape):
    classifier = set(inspect.signature(MLPClassifier).parameters)
    regressor = set(inspect.signature(MLPRegressor).parameters)
    assert classifier - regressor == {"class_weight", "label_smoothing"}
    assert regressor - classifier == {"loss", "huber_delta", "quantile"}
    # a shared parameter's entry is the same text in both
    docs = [{p.name: (p.type, p.desc) for p in docscrape.ClassDoc(c)["Parameters"]}
            for c in ESTIMATORS]
    for name in classifier & regressor:
        assert docs[0][name] == docs[1][name], name


def test_activation_values_documented(docscrape):
    from bpcore._validation import PARAMETER_RULES

    entry = next(p for p in docscrape.ClassDoc(MLPClassifier)["Parameters"]
                 if p.name == "activation")
    listed = re.findall(r"'(\w+)'", entry.type.split("}")[0])
    values = ["identity", "logistic", "tanh", "relu", "leaky_relu", "elu", "gelu",
              "softplus", "swish"]
    assert listed == values
    for value in values:
        assert PARAMETER_RULES["activation"][0](value)
        assert any(line.strip().startswith(f"- '{value}':") for line in entry.desc), value


def fitted_models():
    """Tiny fits that together hold every attribute an estimator can have."""
    X, y = make_classification(60, 4, random_state=0)
    yr = X @ np.arange(1.0, 5.0)
    small = dict(hidden_layer_sizes=(3, 3), max_iter=2, random_state=0)
    options = [
        dict(),
        dict(solver="lbfgs"),
        dict(early_stopping=True),
        dict(normalization="batch", embedding="periodic", n_frequencies=2, embedding_dim=2),
        dict(n_members=2),
    ]
    frame = pytest.importorskip("pandas").DataFrame(X, columns=list("abcd"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for kwargs in options:
            yield MLPClassifier(**small, **kwargs).fit(frame, y)
            yield MLPRegressor(**small, **kwargs).fit(frame, yr)


def public_fitted_attributes(model):
    return {name for name in dir(model)
            if name.endswith("_") and not name.startswith("_") and hasattr(model, name)}


def test_attributes_sections_match_fitted_models(docscrape):
    found = {cls: set() for cls in ESTIMATORS}
    for model in fitted_models():
        found[type(model)] |= public_fitted_attributes(model)
    for cls in ESTIMATORS:
        documented = [a.name for a in docscrape.ClassDoc(cls)["Attributes"]]
        assert len(documented) == len(set(documented)), cls
        for attribute in docscrape.ClassDoc(cls)["Attributes"]:
            assert attribute.type.strip() and " ".join(attribute.desc).strip(), attribute
        # every attribute a fitted model has is documented, and every documented one
        # exists on some fitted model
        assert found[cls] == set(documented), (cls, found[cls] ^ set(documented))
    assert "classes_" in found[MLPClassifier] and "classes_" not in found[MLPRegressor]


def test_unused_option_attributes_raise_attribute_error():
    model = next(fitted_models())
    for name in ("norm_scales_", "running_vars_", "embedding_weights_",
                 "member_input_scales_"):
        with pytest.raises(AttributeError, match=name):
            getattr(model, name)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_public_methods_have_parameters_and_returns(cls, docscrape):
    for name in ("fit", "partial_fit", "predict", "predict_proba", "predict_log_proba",
                 "score", "predict_members", "recommended"):
        method = getattr(cls, name, None)
        if method is None:
            continue
        doc = docscrape.FunctionDoc(method)
        assert doc["Summary"], (cls, name)
        assert doc["Returns"], (cls, name)
        documented = [p.name for p in doc["Parameters"]]
        signature = [n for n in inspect.signature(method).parameters
                     if n not in ("self", "cls")]
        if name == "recommended":
            signature = ["**params"]
        assert documented == signature, (cls, name)
        for parameter in doc["Parameters"]:
            assert " ".join(parameter.desc).strip(), (cls, name, parameter.name)


def test_see_also_names_importable_objects(docscrape):
    for cls in ESTIMATORS:
        for entries, _ in docscrape.ClassDoc(cls)["See Also"]:
            for target, _role in entries:
                module, _, attribute = target.rpartition(".")
                owner = importlib.import_module(module or "bpcore")
                assert hasattr(owner, attribute), target


def test_help_shows_the_regressors_own_entries():
    text = MLPRegressor.__doc__
    assert "MLPClassifier's" not in text
    for name in ("loss :", "huber_delta :", "quantile :", "class_weight", "n_members :",
                 "out_activation_ :", "member_output_scales_ :"):
        if name == "class_weight":
            assert "class_weight :" not in text
        else:
            assert name in text, name


def test_property_docstrings_are_the_attribute_entries():
    from bpcore import _docstrings

    for name in ("coefs_", "intercepts_", "norm_scales_", "member_output_scales_"):
        doc = getattr(MLPClassifier, name).__doc__
        assert doc == _docstrings.attribute_doc(name)
        entry = " ".join(_docstrings.ATTRIBUTES[name][1].split())
        assert entry in " ".join(doc.split())


# ---------------------------------------------------------------- HTML documentation
@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_html_repr_links_to_the_api_page(cls):
    url = f"{DOCS_URL}api/generated/bpcore.{cls.__name__}.html"
    assert url.startswith("https://bpcore.readthedocs.io/en/latest/")
    model = cls(hidden_layer_sizes=(4,))
    assert model._get_doc_link() == url
    assert f'href="{url}"' in model._repr_html_()
    pipeline = make_pipeline(StandardScaler(), cls(hidden_layer_sizes=(4,)))
    html = pipeline._repr_html_()
    assert f'href="{url}"' in html
    assert "scikit-learn.org" in html     # the scaler keeps its own link
    assert f"modules/generated/bpcore.{cls.__name__}" not in html


def test_html_repr_of_a_fitted_model_links_its_parameters():
    from sklearn.base import BaseEstimator

    if not hasattr(BaseEstimator, "_get_params_html"):
        pytest.skip("this scikit-learn's HTML representation has no parameter table")
    X, y = make_classification(40, 3, n_informative=2, n_redundant=0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, alpha=0.01).fit(X, y)
    html = model._repr_html_()
    assert f"{DOCS_URL}api/generated/bpcore.MLPClassifier.html" in html
    # scikit-learn links each parameter to its entry by a text fragment made of the
    # entry's "name : type" line
    page = re.escape(f"{DOCS_URL}api/generated/bpcore.MLPClassifier.html")
    assert re.search(page + r"#:~:text=alpha,-float%2C%20default%3D0.0001", html)


# ---------------------------------------------------------- words users never saw
FORBIDDEN = re.compile(r"seed 00|seeds'|the seeds|the design|design\.md|issue #\d",
                       re.IGNORECASE)


def test_no_project_internal_words_in_the_package():
    package = pathlib.Path(bpcore.__file__).parent
    files = [p for p in package.iterdir() if p.suffix in (".py", ".pyx", ".pyi", ".pxd")]
    assert any(p.name == "_estimators.py" for p in files)
    hits = [f"{p.name}:{n}: {line.strip()}" for p in files
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if FORBIDDEN.search(line)]
    assert not hits, hits


def test_no_project_internal_words_in_docstrings():
    for name in public_modules():
        if name in OPTIONAL and importlib.util.find_spec(OPTIONAL[name]) is None:
            continue
        module = importlib.import_module(name)
        for obj in [module, *vars(module).values()]:
            doc = inspect.getdoc(obj) if (inspect.isclass(obj) or callable(obj)
                                          or inspect.ismodule(obj)) else None
            if doc:
                assert not FORBIDDEN.search(doc), (name, obj)
