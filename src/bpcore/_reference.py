"""The forward and backward pass in plain numpy, on the same flat parameter layout.

A readable statement of what the kernels compute, kept as the tests' oracle: slow,
allocating, and written straight from the formulas.

    Zˡ = Aˡ⁻¹ Wˡ + bˡ,  Aˡ = σˡ(Zˡ)
    J  = Σᵢ sᵢ ℓ(aᴸᵢ, yᵢ) / Σᵢ sᵢ  +  α ‖W‖² / (2 Σᵢ sᵢ)
    δᴸ = s (Aᴸ - Y),  δˡ = (δˡ⁺¹ Wˡ⁺¹ᵀ) ⊙ σ'(Zˡ)
    ∂J/∂Wˡ = (Aˡ⁻¹ᵀ δˡ + α Wˡ) / Σs,  ∂J/∂bˡ = Σ rows of δˡ / Σs
"""

import numpy as np
from scipy.special import erf, expit, xlogy

from ._layout import OUTPUT_ACTIVATIONS, views
from ._network import LEAKY_RELU_SLOPE


LEAKY_SLOPE = LEAKY_RELU_SLOPE   # the kernels' constant: a definition, not logic under test


def activate(Z, name):
    if name == "leaky_relu":
        return np.where(Z > 0, Z, LEAKY_SLOPE * Z)
    if name == "elu":
        return np.where(Z > 0, Z, np.expm1(np.minimum(Z, 0)))
    if name == "gelu":
        return 0.5 * Z * (1 + erf(Z / np.sqrt(2)))
    if name == "softplus":
        return np.logaddexp(0, Z)
    if name == "swish":
        return Z * expit(Z)
    if name == "identity":
        return Z
    if name == "logistic":
        return expit(Z)
    if name == "tanh":
        return np.tanh(Z)
    if name == "relu":
        return np.maximum(Z, 0)
    if name == "exp":
        return np.exp(Z)
    if name == "softmax":
        E = np.exp(Z - Z.max(axis=1, keepdims=True))
        return E / E.sum(axis=1, keepdims=True)
    raise ValueError(name)


def derivative(A, name, Z=None):
    """σ'(Z), written through A = σ(Z) where possible (Z for gelu and swish)."""
    if name == "leaky_relu":
        return np.where(A > 0, 1.0, LEAKY_SLOPE)
    if name == "elu":
        return np.where(A > 0, 1.0, A + 1)
    if name == "softplus":
        return -np.expm1(-A)
    if name == "gelu":
        return 0.5 * (1 + erf(Z / np.sqrt(2))) + Z * np.exp(-0.5 * Z**2) / np.sqrt(2 * np.pi)
    if name == "swish":
        s = expit(Z)
        return s * (1 + Z * (1 - s))
    if name == "identity":
        return np.ones_like(A)
    if name == "logistic":
        return A * (1 - A)
    if name == "tanh":
        return 1 - A**2
    if name == "relu":
        return (A > 0).astype(A.dtype)
    raise ValueError(name)


def sample_losses(A, Y, loss):
    """ℓ(aᵢ, yᵢ) per sample, summed over the outputs."""
    eps = np.finfo(A.dtype).eps
    if loss == "squared_error":
        return 0.5 * ((A - Y) ** 2).sum(axis=1)
    if loss == "poisson":
        return (xlogy(Y, Y / A) - Y + A).sum(axis=1)
    P = np.clip(A, eps, 1 - eps)
    if loss == "log_loss":
        return -xlogy(Y, P).sum(axis=1)
    return -(xlogy(Y, P) + xlogy(1 - Y, 1 - P)).sum(axis=1)


def forward(params, X, layer_units, activation, loss, return_z=False):
    """Every layer's activations [X, A¹, ..., Aᴸ] (and pre-activations [Z¹, ..., Zᴸ])."""
    coefs, intercepts = views(params, layer_units)
    activations, pre = [X], []
    for layer, (W, b) in enumerate(zip(coefs, intercepts)):
        last = layer == len(coefs) - 1
        name = OUTPUT_ACTIVATIONS[loss] if last else activation
        pre.append(activations[-1] @ W + b)
        activations.append(activate(pre[-1], name))
    return (activations, pre) if return_z else activations


def loss_gradient(params, X, Y, layer_units, activation, loss, alpha, sample_weight=None):
    """(data loss, penalty, flat gradient) for the objective J above."""
    coefs, _ = views(params, layer_units)
    s = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight, float)
    s_sum = s.sum()
    activations, pre = forward(params, X, layer_units, activation, loss, return_z=True)
    data = (s * sample_losses(activations[-1], Y, loss)).sum() / s_sum
    penalty = 0.5 * alpha * sum((W**2).sum() for W in coefs) / s_sum

    grad = np.empty_like(params)
    grad_coefs, grad_intercepts = views(grad, layer_units)
    delta = (activations[-1] - Y) * s[:, None]
    for layer in range(len(coefs) - 1, -1, -1):
        grad_coefs[layer][...] = (activations[layer].T @ delta + alpha * coefs[layer]) / s_sum
        grad_intercepts[layer][...] = delta.sum(axis=0) / s_sum
        if layer > 0:
            delta = (delta @ coefs[layer].T) * derivative(
                activations[layer], activation, pre[layer - 1]
            )
    return data, penalty, grad
