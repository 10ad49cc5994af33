"""What request models share."""

from __future__ import annotations

from sqlmodel import SQLModel

# JSON parsers accept NaN and Infinity, and read 1e309 as infinity: a request refuses them.
# Set as `model_config = FINITE` on a request model; magnitudes are checked against settings.
FINITE = SQLModel.model_config | {"allow_inf_nan": False}
