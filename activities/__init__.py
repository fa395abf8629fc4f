"""Durable activities: one small step each, calling shared/.

Each module holds one blueprint; `blueprints` is what the Function App registers, in this order.
"""

import azure.durable_functions as df

from activities import copies, images, inventory, notify, retirement, run_queue, vms

_MODULES = (inventory, vms, copies, images, retirement, run_queue, notify)
blueprints: list[df.Blueprint] = [module.bp for module in _MODULES]
