"""Which rank computes what: the engine (and the main output file) on rank 0, circuits
spread over the ranks, balanced by size."""

from __future__ import annotations

from dataclasses import dataclass

ENGINE_RANK = 0


@dataclass(frozen=True)
class Placement:
    n_ranks: int
    engine_rank: int
    circuits: dict[str, int]  # circuit name -> rank

    def describe(self) -> str:
        lines = [
            f"placement on {self.n_ranks} rank(s): engine and store on rank {self.engine_rank}"
        ]
        for name, rank in sorted(self.circuits.items(), key=lambda x: (x[1], x[0])):
            lines.append(f"  circuit {name} on rank {rank}")
        return "\n".join(lines)


def place(circuit_sizes: dict[str, int], n_ranks: int, engine_cost: int) -> Placement:
    """Longest-processing-time-first: the largest circuit goes to the least loaded rank.
    circuit_sizes: neurons per circuit (a cost proxy); engine_cost: the engine's load in the
    same unit, which keeps circuits off its rank while other ranks are lighter. Ties go to
    the lower rank, so the placement depends only on the sizes and the rank count."""
    load = [0] * n_ranks
    load[ENGINE_RANK] = engine_cost
    out = {}
    for name in sorted(circuit_sizes, key=lambda n: (-circuit_sizes[n], n)):
        r = min(range(n_ranks), key=lambda i: (load[i], i))
        out[name] = r
        load[r] += circuit_sizes[name]
    return Placement(n_ranks, ENGINE_RANK, out)
