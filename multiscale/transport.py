"""Moving window data between the engine and the circuits: in memory on one process, or
with mpi4py buffer calls (numpy arrays, no pickling) between ranks.

Per window k the engine sends each circuit its input (one float64 per exchange bin, after
a leading control value: 0 to go on, or the number of the signal that stops the run at
this boundary) and each circuit sends back its output (rate and field proxy per bin,
packed in one array). A circuit rank that receives SIGINT or SIGTERM tells the engine
(STOP_TAG); the engine decides, so every rank stops at the same boundary.
Receives are posted as early as possible: the engine posts the receives of window k's
outputs as soon as it has sent window k's inputs; a circuit rank posts the receive of its
next input as soon as it has sent its output.
"""

from __future__ import annotations

import time

import numpy as np

#: tag of the message a failing rank sends every other rank
ERROR_TAG = 32000
#: tag of a circuit rank's request to stop at the next boundary (it caught a signal)
STOP_TAG = 32001
#: tag of a circuit rank's note that it has written its part of a checkpoint
CHECKPOINT_TAG = 32002


class RemoteRankError(RuntimeError):
    """Another rank failed; this one stops (without a traceback of its own)."""


class LocalTransport:
    """Everything on one process: a mailbox."""

    rank = 0
    size = 1

    def __init__(self) -> None:
        self._outputs: dict[str, np.ndarray] = {}
        self._inputs: dict[str, np.ndarray] = {}
        self._stop = 0

    def send_outputs(self, k: int, outputs: dict[str, np.ndarray]) -> None:
        self._outputs.update(outputs)

    def recv_outputs(self, k: int, n_bins: int) -> dict[str, np.ndarray]:
        out, self._outputs = self._outputs, {}
        return out

    def send_inputs(self, k: int, inputs: dict[str, np.ndarray], stop: int = 0) -> None:
        self._inputs.update(inputs)
        self._stop = stop

    def recv_inputs(self, k: int, n_bins: int) -> tuple[dict[str, np.ndarray], int]:
        out, self._inputs = self._inputs, {}
        return out, self._stop

    def request_stop(self, signum: int) -> None:
        self._stop = self._stop or signum

    def stop_requested(self) -> int:
        return self._stop

    def checkpoint_part_written(self, k: int) -> None:
        pass

    def barrier(self) -> None:
        pass

    def wait_checkpoint_parts(self, k: int) -> None:
        pass

    def post_next_inputs(self, n_bins: int) -> None:
        pass

    def post_outputs(self, n_bins: int) -> None:
        pass

    def finish(self, ok: bool) -> bool:
        return ok

    def notify_failure(self) -> None:
        pass


class MPITransport:
    """Engine on ``engine_rank``; circuit ``name`` on ``placement[name]``. A circuit on the
    engine's rank goes through memory, the others through MPI point-to-point messages
    tagged with the circuit's index."""

    def __init__(self, comm, engine_rank: int, placement: dict[str, int]) -> None:
        from mpi4py import MPI

        self.MPI = MPI
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self.engine_rank = engine_rank
        self.placement = placement
        self.tags = {name: t for t, name in enumerate(sorted(placement))}
        self.is_engine = self.rank == engine_rank
        self.local = [n for n in sorted(placement) if placement[n] == self.rank]
        self.remote = [n for n in sorted(placement) if placement[n] != engine_rank]
        self._mail_out: dict[str, np.ndarray] = {}
        self._mail_in: dict[str, np.ndarray] = {}
        self._send_reqs: list = []
        self._recv_out: dict[str, tuple] = {}  # engine: name -> (request, buffer)
        self._recv_in: dict[str, tuple] = {}  # circuit rank: name -> (request, buffer)
        self._mail_stop = 0  # control value for circuits on the engine's rank
        self._stop = 0  # this rank's own signal, if any
        self._stop_sent = False

    # circuit side
    def send_outputs(self, k: int, outputs: dict[str, np.ndarray]) -> None:
        self._wait_sends()
        for name, buf in outputs.items():
            if self.is_engine:
                self._mail_out[name] = buf
            else:
                buf = np.ascontiguousarray(buf, dtype=np.float64)
                self._send_reqs.append(
                    (self.comm.Isend(buf, dest=self.engine_rank, tag=self.tags[name]), buf)
                )

    def recv_inputs(self, k: int, n_bins: int) -> tuple[dict[str, np.ndarray], int]:
        out = {}
        stop = self._mail_stop if self.is_engine else 0
        for name in self.local:
            if self.is_engine:
                out[name] = self._mail_in.pop(name)
                continue
            if name not in self._recv_in:
                self._post_input(name, n_bins)
            req, buf = self._recv_in.pop(name)
            self._wait(req)
            stop = int(buf[0])
            out[name] = buf[1 : n_bins + 1].copy()
        return out, stop

    def request_stop(self, signum: int) -> None:
        """This rank caught a stop signal: remember it, and tell the engine (once)."""
        self._stop = self._stop or signum
        if not self.is_engine and not self._stop_sent:
            note = np.array([signum], dtype=np.int64)
            self._stop_note = (self.comm.Isend(note, dest=self.engine_rank, tag=STOP_TAG), note)
            self._stop_sent = True

    def stop_requested(self) -> int:
        """Engine: the signal to stop at this boundary (own or a circuit rank's), or 0."""
        while self.comm.Iprobe(source=self.MPI.ANY_SOURCE, tag=STOP_TAG):
            note = np.empty(1, dtype=np.int64)
            self.comm.Recv(note, source=self.MPI.ANY_SOURCE, tag=STOP_TAG)
            self._stop = self._stop or int(note[0])
        return self._stop

    def post_next_inputs(self, n_bins: int) -> None:
        """Circuit rank: post the receives of the next window's inputs now."""
        if not self.is_engine:
            for name in self.local:
                self._post_input(name, n_bins)

    def checkpoint_part_written(self, k: int) -> None:
        """Circuit rank: tell the engine that this rank's part of checkpoint k is on disk."""
        if not self.is_engine:
            note = np.array([k], dtype=np.int64)
            self._send_reqs.append(
                (self.comm.Isend(note, dest=self.engine_rank, tag=CHECKPOINT_TAG), note)
            )

    def barrier(self) -> None:
        """Every rank waits for all (watching for another rank's failure meanwhile)."""
        self._wait(self.comm.Ibarrier())

    def wait_checkpoint_parts(self, k: int) -> None:
        """Engine: wait until every circuit rank has written its part of checkpoint k."""
        for r in sorted({self.placement[n] for n in self.remote}):
            note = np.empty(1, dtype=np.int64)
            self._wait(self.comm.Irecv(note, source=r, tag=CHECKPOINT_TAG))
            if int(note[0]) != k:
                raise RuntimeError(f"rank {r} wrote checkpoint {int(note[0])}, expected {k}")

    def _post_input(self, name: str, n_bins: int) -> None:
        buf = np.empty(n_bins + 1, dtype=np.float64)
        req = self.comm.Irecv(buf, source=self.engine_rank, tag=self.tags[name])
        self._recv_in[name] = (req, buf)

    # engine side
    def send_inputs(self, k: int, inputs: dict[str, np.ndarray], stop: int = 0) -> None:
        self._wait_sends()
        self._mail_stop = stop
        for name, buf in inputs.items():
            if self.placement[name] == self.rank:
                self._mail_in[name] = buf
            else:
                buf = np.concatenate([[float(stop)], buf])
                req = self.comm.Isend(buf, dest=self.placement[name], tag=self.tags[name])
                self._send_reqs.append((req, buf))

    def post_outputs(self, n_bins: int) -> None:
        """Engine: post the receives of the outputs of the window now being computed."""
        for name in self.remote:
            buf = np.empty(2 * n_bins, dtype=np.float64)
            req = self.comm.Irecv(buf, source=self.placement[name], tag=self.tags[name])
            self._recv_out[name] = (req, buf)

    def recv_outputs(self, k: int, n_bins: int) -> dict[str, np.ndarray]:
        out = dict(self._mail_out)
        self._mail_out.clear()
        for name in self.remote:
            if name not in self._recv_out:
                self.post_outputs(n_bins)
            req, buf = self._recv_out.pop(name)
            self._wait(req)
            out[name] = buf
        return out

    def _wait_sends(self) -> None:
        for req, _ in self._send_reqs:
            self._wait(req)
        self._send_reqs.clear()

    def _wait(self, req) -> None:
        """Wait for a request, watching for another rank's failure notice meanwhile (a
        plain Wait would block forever on a message a dead rank will never send). The
        short sleeps also leave the core to other ranks when there are more ranks than
        cores."""
        while not req.Test():
            if self.comm.Iprobe(source=self.MPI.ANY_SOURCE, tag=ERROR_TAG):
                status = self.MPI.Status()
                self.comm.Recv(
                    np.empty(1, dtype=np.int64),
                    source=self.MPI.ANY_SOURCE,
                    tag=ERROR_TAG,
                    status=status,
                )
                raise RemoteRankError(f"rank {status.Get_source()} failed")
            time.sleep(2e-5)

    def notify_failure(self) -> None:
        """Tell every other rank that this one failed (they close their files and stop)."""
        note = np.array([self.rank], dtype=np.int64)
        self._notes = [
            self.comm.Isend(note, dest=r, tag=ERROR_TAG) for r in range(self.size) if r != self.rank
        ]

    def finish(self, ok: bool) -> bool:
        """True on the engine rank only if every rank finished."""
        self._wait_sends()
        flags = self.comm.gather(bool(ok), root=self.engine_rank)
        if self.is_engine:
            self.stop_requested()  # drain stop notes that came after the decision
        elif self._stop_sent:
            self._stop_note[0].Wait()  # 8 bytes: sent eagerly, complete by now
        return all(flags) if self.is_engine else ok
