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

from dataclasses import dataclass
from types import ModuleType

from clvxl.errors import InputError
from clvxl.models import bgbb, bgnbd, gammagamma, mbgnbd, paretonbd, sbg

__all__ = ["PURCHASE_MODELS", "REGISTRY", "ModelInfo", "model_info", "module_of"]


@dataclass(frozen=True)
class ModelInfo:
    """One model of the registry.

    Attributes
    ----------
    name : str
        Its name on the command line and in Settings (``"bgnbd"``).
    kind : {"purchase", "spend", "discrete", "survival"}
        What it models: repeat purchases in continuous time, spend per purchase,
        purchases in discrete periods, or subscription survival.
    module : module
        The module with its ``fit`` and prediction functions.
    fitted : type
        The frozen dataclass ``fit`` returns.
    one_time_buyers_alive : bool
        True for a purchase model whose P(alive) of a customer without repeat
        purchases is 1 however long ago the purchase was (BG/NBD: a customer can
        drop out only right after a repeat purchase).
    """

    name: str
    kind: str
    module: ModuleType
    fitted: type
    one_time_buyers_alive: bool = False

    @property
    def label(self) -> str:
        """Its name in the literature (``"BG/NBD"``), as its fitted values carry it."""
        return self.fitted.name


REGISTRY: dict[str, ModelInfo] = {
    info.name: info
    for info in (
        ModelInfo("bgnbd", "purchase", bgnbd, bgnbd.BetaGeoModel, one_time_buyers_alive=True),
        ModelInfo("mbgnbd", "purchase", mbgnbd, mbgnbd.ModifiedBetaGeoModel),
        ModelInfo("paretonbd", "purchase", paretonbd, paretonbd.ParetoNBDModel),
        ModelInfo("gammagamma", "spend", gammagamma, gammagamma.GammaGammaModel),
        ModelInfo("bgbb", "discrete", bgbb, bgbb.BetaGeoBetaBinomModel),
        ModelInfo("sbg", "survival", sbg, sbg.ShiftedBetaGeoModel),
    )
}

#: The models that can predict purchases for CLV, first the default.
PURCHASE_MODELS: tuple[str, ...] = tuple(n for n, m in REGISTRY.items() if m.kind == "purchase")


def model_info(name: str, kind: str | None = None) -> ModelInfo:
    """The registry entry called ``name`` (of ``kind``, when given), or an InputError.

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
    """The module whose prediction functions take ``fitted`` (a fitted model value)."""
    for info in REGISTRY.values():
        if isinstance(fitted, info.fitted):
            return info.module
    raise TypeError(f"not a fitted clvxl model: {type(fitted).__name__}")
