"""Brian2 microcircuits, one file each; ``CIRCUITS`` maps names to classes."""

from circuits.ei_network import EINetwork

CIRCUITS = {c.NAME: c for c in (EINetwork,)}

__all__ = ["CIRCUITS", "EINetwork"]
