"""The probabilistic models: pure maths, one module per model, and their registry.

Each module has a frozen dataclass of fitted parameters (on
:class:`~clvxl.models._mle.ModelParams`), a ``fit`` function working on distinct
patterns with weights, and pure prediction functions taking the fitted value first.
:data:`REGISTRY` is the one list of the models clvxl knows: their names on the command
line and in Settings, their labels, what they model, and their fitted type.

Examples
--------
>>> PURCHASE_MODELS
('bgnbd', 'mbgnbd', 'paretonbd')
>>> REGISTRY["paretonbd"].label
'Pareto/NBD'
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from types import ModuleType

from clvxl.errors import InputError

__all__ = [
    "AUTO",
    "BUSINESSES",
    "MODEL_CHOICES",
    "PURCHASE_MODELS",
    "REGISTRY",
    "ModelInfo",
    "model_info",
    "module_of",
]


@dataclass(frozen=True)
class ModelInfo:
    """One model of the registry; its module (and scipy) loads on first use.

    Attributes
    ----------
    name : str
        Its name on the command line and in Settings (``"bgnbd"``), and its module's
        name in :mod:`clvxl.models`.
    kind : {"purchase", "spend", "discrete", "survival"}
        What it models: repeat purchases in continuous time, spend per purchase,
        purchases in discrete periods, or subscription survival.
    fitted_name : str
        The name of the frozen dataclass ``fit`` returns, in its module.
    one_time_buyers_alive : bool
        True for a purchase model whose P(alive) of a customer without repeat
        purchases is 1 however long ago the purchase was (BG/NBD: a customer can
        drop out only right after a repeat purchase).
    """

    name: str
    kind: str
    fitted_name: str
    one_time_buyers_alive: bool = False

    @property
    def module(self) -> ModuleType:
        """The module with its ``fit`` and prediction functions, imported on first use."""
        return importlib.import_module(f"{__name__}.{self.name}")

    @property
    def fitted(self) -> type:
        """The frozen dataclass ``fit`` returns."""
        return getattr(self.module, self.fitted_name)

    @property
    def label(self) -> str:
        """Its name in the literature (``"BG/NBD"``), as its fitted values carry it."""
        return self.fitted.name


REGISTRY: dict[str, ModelInfo] = {
    info.name: info
    for info in (
        ModelInfo("bgnbd", "purchase", "BetaGeoModel", one_time_buyers_alive=True),
        ModelInfo("mbgnbd", "purchase", "ModifiedBetaGeoModel"),
        ModelInfo("paretonbd", "purchase", "ParetoNBDModel"),
        ModelInfo("gammagamma", "spend", "GammaGammaModel"),
        ModelInfo("bgbb", "discrete", "BetaGeoBetaBinomModel"),
        ModelInfo("sbg", "survival", "ShiftedBetaGeoModel"),
    )
}

#: The models that can predict purchases for CLV.
PURCHASE_MODELS: tuple[str, ...] = tuple(n for n, m in REGISTRY.items() if m.kind == "purchase")
#: The ``model`` setting that chooses the purchase model by the holdout check.
AUTO = "auto"
#: What the ``model`` setting accepts, the default first.
MODEL_CHOICES: tuple[str, ...] = (AUTO, *PURCHASE_MODELS)
#: What a recalculation models: repeat purchases (the purchase models) or subscriptions
#: (sBG); ``"auto"`` decides from the log.
BUSINESSES: tuple[str, ...] = (AUTO, "transactions", "subscription")


def model_info(name: str, kind: str | None = None) -> ModelInfo:
    """The registry entry called ``name`` (of ``kind``, when given), or an InputError.

    Parameters
    ----------
    name : str
        The model's name on the command line and in Settings (``"bgnbd"``).
    kind : {"purchase", "spend", "discrete", "survival"}, optional
        The kind of model wanted; without it any model of the registry.

    Returns
    -------
    ModelInfo
        The registry's entry for ``name``.

    Raises
    ------
    InputError
        If no model of that kind is called ``name``; the message lists the names
        there are.

    Examples
    --------
    >>> model_info("bgnbd", "purchase").module.__name__
    'clvxl.models.bgnbd'
    >>> model_info("sbg", "purchase")
    Traceback (most recent call last):
    ...
    clvxl.errors.InputError: model must be one of bgnbd, mbgnbd, paretonbd; got 'sbg'
    """
    names = [n for n, m in REGISTRY.items() if kind is None or m.kind == kind]
    if name not in names:
        raise InputError(f"model must be one of {', '.join(names)}; got {name!r}")
    return REGISTRY[name]


def module_of(fitted: object) -> ModuleType:
    """The module whose prediction functions take ``fitted`` (a fitted model value).

    Parameters
    ----------
    fitted : object
        A fitted model value, e.g. a :class:`~clvxl.models.bgnbd.BetaGeoModel`.

    Returns
    -------
    module
        The model's module (``clvxl.models.bgnbd`` for a BG/NBD model).

    Raises
    ------
    TypeError
        If ``fitted`` is not a fitted clvxl model.

    Examples
    --------
    >>> module_of(bgnbd.BetaGeoModel(r=0.243, alpha=4.414, a=0.793, b=2.426)).__name__
    'clvxl.models.bgnbd'
    """
    # By the model's name, which every fitted value carries, rather than by class: a
    # module loaded twice (as doctests are) has a second class of the same name.
    for info in REGISTRY.values():
        # Only a loaded module can have made ``fitted``: the others stay unloaded.
        loaded = f"{__name__}.{info.name}" in sys.modules
        if loaded and getattr(fitted, "name", None) == info.label:
            return info.module
    raise TypeError(f"not a fitted clvxl model: {type(fitted).__name__}")
