"""The type stub _network.pyi says what the compiled module has."""

import ast
import inspect
from pathlib import Path

import bpcore
from bpcore import _network


def stub_tree():
    return ast.parse((Path(bpcore.__file__).parent / "_network.pyi").read_text())


def parameter_names(node):
    return [a.arg for a in node.args.args if a.arg != "self"]


def test_every_stubbed_function_has_these_parameters():
    functions = [n for n in stub_tree().body if isinstance(n, ast.FunctionDef)]
    assert len(functions) >= 8
    for node in functions:
        compiled = getattr(_network, node.name)
        assert list(inspect.signature(compiled).parameters) == parameter_names(node), node.name


def test_every_public_name_of_the_module_is_stubbed():
    stubbed = set()
    for node in stub_tree().body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            stubbed.add(node.name)
        elif isinstance(node, ast.AnnAssign):
            stubbed.add(node.target.id)
    public = {name for name in dir(_network) if not name.startswith("_")}
    assert public == stubbed


def test_network_constructor_and_methods_match():
    # the constructor takes the stub's parameter names as keywords (a wrong name
    # raises TypeError), and has the stub's methods
    network = next(n for n in stub_tree().body if isinstance(n, ast.ClassDef))
    init = next(n for n in network.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    values = dict(layer_units=[4, 3, 2], hidden_activation=[_network.ACTIVATION_CODES["relu"]],
                  loss=_network.LOSS_CODES["log_loss"], alpha=0.0, batch_capacity=8,
                  n_threads=1, dropout=[0.0], stages_input=False,
                  loss_param=None, normalization=0, residual=False, norm_momentum=0.1,
                  n_frequencies=0, embedding_dim=0, members=1)
    net = _network.Network(**{name: values[name] for name in parameter_names(init)})
    for node in network.body:
        if isinstance(node, ast.FunctionDef) and node.name != "__init__":
            assert hasattr(net, node.name), node.name
    assert net.n_params == 4 * 3 + 3 * 2 + 3 + 2
