"""From configuration and inventory to a plan: what to build, distribute, retire. Pure."""
