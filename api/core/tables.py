"""Every table of the service, imported in one place so migrations see the whole schema."""

from __future__ import annotations

from sqlmodel import SQLModel

import api.areas.models
import api.auth.models
import api.banks.models
import api.fleet.models
import api.notifications.models
import api.orders.models
import api.plans.models
import api.records.models
import api.repairs.models
import api.tickets.models  # noqa: F401

metadata = SQLModel.metadata
