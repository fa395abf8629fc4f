"""Durable activities: one small step each, calling shared/.

Each module holds one blueprint; this list is what the Function App registers.
"""

import azure.durable_functions as df

from activities import copies, images, inventory, notify, retirement, run_queue, vms

blueprints: list[df.Blueprint] = [
    inventory.bp,
    vms.bp,
    copies.bp,
    images.bp,
    retirement.bp,
    run_queue.bp,
    notify.bp,
]
