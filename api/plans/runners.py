"""Which runner plans the jobs: child processes of this service, or a Ray cluster."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from api.core.config import ServiceSettings
from api.plans.runner import InProcessRunner


def make_runner(engine: Engine, settings: ServiceSettings) -> InProcessRunner:
    """The Ray runner when DISPATCH_RAY_ADDRESS names a cluster, else the embedded one."""
    if not settings.ray_address:
        return InProcessRunner(engine, settings)
    try:
        from api.plans.ray_runner import RayRunner
    except ImportError as error:  # Ray is an optional extra: say which one
        raise RuntimeError(
            "DISPATCH_RAY_ADDRESS is set but Ray is not installed: pip install -e '.[cluster]'"
        ) from error
    return RayRunner(engine, settings)
