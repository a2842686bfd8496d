"""What a run records, window by window: region traces, region sources (nA m), sensor
signals (EEG and SEEG in uV, MEG in fT), circuit rates, field proxies and spikes, all
streamed into the run's Store."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import h5py
import numpy as np

from multiscale.bold import BalloonWindkessel
from multiscale.checkpoint_state import substate
from multiscale.observers import TemporalAverage
from multiscale.storage import Store

if TYPE_CHECKING:
    from multiscale.plan import Plan
    from multiscale.sensors import Gain

#: how each signal unit of a forward model is stored: (unit on disk, factor from SI)
STORED_UNITS = {"V": ("uV", 1e6), "T": ("fT", 1e15), "T/m": ("fT/cm", 1e13)}
#: the reference each sensor kind is stored with
REFERENCES = {"eeg": "average", "meg": "none", "seeg": "none"}


def sensor_projection(kind: str, gain: Gain) -> tuple[np.ndarray, str]:
    """(regions, channels) matrix from region moments (nA m) to what is stored of sensor
    ``kind`` (EEG average-referenced: folded into the matrix), and the stored unit."""
    unit, factor = STORED_UNITS[gain.sensors.signal_unit]
    matrix = gain.average_referenced() if REFERENCES[kind] == "average" else gain.matrix
    return np.ascontiguousarray(matrix.T * (1e-9 * factor)), unit


def sample_steps(rate_hz: float, dt_ms: float) -> int:
    """Engine steps averaged into one recorded sample at ``rate_hz`` (Hz) with steps of
    dt_ms (ms)."""
    return int(round(1000.0 / rate_hz / dt_ms))


class SensorRecording:
    """One sensor kind's series: the projection from region moments (nA m) to the stored
    unit, applied window by window (EEG average-referenced: folded into the matrix)."""

    def __init__(self, store: Store, kind: str, gain: Gain, model: str, rate_hz: float) -> None:
        self.projection, unit = sensor_projection(kind, gain)
        reference = REFERENCES[kind]
        store.write_names(f"{kind}/channels", gain.channels, f"the {kind} channels, in order")
        self.series = store.create_series(
            f"{kind}/data",
            gain.n_channels,
            unit,
            {
                "sampling_rate": rate_hz,
                "channels_dataset": f"/{kind}/channels",
                "kind": kind,
                "reference": reference,
                "forward_model": model,
            },
        )
        parameters = dict(gain.parameters)
        radial = parameters.pop("radial_regions", None)
        if radial is not None:  # a list of region labels: it grows with the connectome
            store.write_names(
                f"{kind}/radial_regions",
                radial,
                "regions whose dipole the forward model took as radial (no orientation)",
            )
            parameters["radial_regions"] = f"/{kind}/radial_regions ({len(radial)} regions)"
        store.write_array(
            f"{kind}/gain",
            gain.matrix,
            gain.unit,
            {"source": gain.source, "parameters": json.dumps(parameters, default=str)},
        )
        s = gain.sensors
        store.write_array(f"{kind}/positions", s.positions_mm, "mm", {"frame": s.frame})
        if s.orientations is not None:
            store.write_array(f"{kind}/orientations", s.orientations, "1", {"frame": s.frame})

    def rows(self, moments_nAm: np.ndarray) -> np.ndarray:
        """(samples, channels) in the stored unit from (samples, regions) moments (nA m)."""
        return moments_nAm @ self.projection


def run_attributes(plan: Plan) -> dict:
    """The root attributes of an output that describe the run's set-up."""
    exp, w = plan.experiment, plan.window
    return {
        "config_path": str(exp.path),
        "name": exp.name,
        "seed": exp.seed,
        "duration_ms": w.total_steps * w.dt_ms,
        "dt_ms": w.dt_ms,
        "window_ms": w.ms,
        "resolution_ms": exp.cosim.resolution_ms,
        "region_model": exp.regions.model,
        "coupling": exp.regions.coupling,
    }


class Recorder:
    """Writes what the engine's rank records into ``store`` (the run's main file).

    spike_files: circuit name -> the file (a name in the same folder) where another rank
    writes that circuit's spikes; the main file links to them."""

    def __init__(self, plan: Plan, store: Store, spike_files: dict[str, str]) -> None:
        exp = plan.experiment
        self.store = store
        rate = exp.record.sampling_rate_hz
        f = self.store.file
        conn = plan.connectome
        model = plan.masses.model
        obs, unit = model.OBSERVABLE
        write_connectome(self.store, conn)
        labels = {"labels_dataset": LABELS}
        if conn.centres_mm is not None:
            self.store.write_array(
                "connectome/centres",
                conn.centres_mm,
                "mm",
                {"frame": "TVB: x anterior, y left, z up"},
            )
        self.regions = self.store.create_series(
            "regions/data",
            conn.n_regions,
            unit,
            {
                "sampling_rate": rate,
                **labels,
                "observable": obs,
                "note": "spiking regions hold their circuit's field proxy (mV)",
            },
        )
        self.decimate = TemporalAverage(sample_steps(rate, plan.window.dt_ms))
        self.source_model = plan.sources
        self.source_series = None
        if plan.sources is not None and exp.record.sources:
            sm = plan.sources
            self.source_series = self.store.create_series(
                "sources/data",
                conn.n_regions,
                "nA m",
                {
                    "sampling_rate": rate,
                    **labels,
                    "what": "current dipole moment of each region (multiscale.sources)",
                },
            )
            self.store.write_names(
                "sources/rules", sm.rules, "the rule that gives each region's scale, in words"
            )
            self.store.write_array(
                "sources/scale",
                sm.scale,
                "nA m per unit of regions/data",
                {"rest": sm.rest, "rules_dataset": "/sources/rules"},
            )
            self.store.write_array("sources/areas", sm.areas_mm2, "mm^2")
        self.sensors = {
            kind: SensorRecording(self.store, kind, gain, _named(exp.record, kind), rate)
            for kind, gain in plan.sensors.items()
        }
        self.bold = None
        bold = exp.record.bold
        if bold is not None:
            self.bold = BalloonWindkessel(
                conn.n_regions, 1000.0 / rate, bold.tr_ms, bold.gain, bold.reference_ms / 1000.0
            )
            self.bold_series = self.store.create_series(
                "bold/data",
                conn.n_regions,
                "1",
                {
                    "sampling_rate": 1000.0 / bold.tr_ms,
                    **labels,
                    "what": "fractional BOLD signal change (Balloon-Windkessel, Friston 2000)",
                    "input": f"gain {bold.gain:g} x (regions/data - running mean over "
                    f"{bold.reference_ms / 1000:g} s)",
                },
            )
        # raw states at every step, one dataset per variable (each has its own unit)
        names = model.state_names()
        self.states = {
            names.index(sv): self.store.create_series(
                f"regions/states/{sv}",
                conn.n_regions,
                model.STATE_VARIABLES[sv].unit,
                {
                    "sampling_rate": 1000.0 / plan.window.dt_ms,
                    **labels,
                    "what": f"{sv} after every integration step (NaN: a circuit's proxy node)",
                },
            )
            for sv in exp.record.states
        }
        self._proxies = sorted(plan.proxies.values())
        self.circuit_series = {}
        bin_rate = 1000.0 / exp.cosim.resolution_ms
        for spec in exp.circuits:
            c = plan.circuits[spec.name]
            g = f.create_group(f"circuits/{spec.name}")
            g.attrs.update(
                {
                    "model": spec.model,
                    "region": c.label,
                    "region_index": c.region,
                    "parameters": json.dumps(spec.parameters),
                    "input_gain": spec.input_gain,
                    "output_gain": spec.output_gain,
                    "field_gain": spec.field_gain,
                    "source_scale": (
                        float(plan.sources.scale[c.region]) if plan.sources is not None else 0.0
                    ),
                }
            )
            cls = c.cls
            series = {
                "rate": self.store.create_series(
                    f"circuits/{spec.name}/rate",
                    None,
                    "Hz",
                    {"sampling_rate": bin_rate, "population": cls.OUTPUT_POPULATION},
                ),
                "field": self.store.create_series(
                    f"circuits/{spec.name}/field",
                    None,
                    "mV",
                    {"sampling_rate": bin_rate, "what": "Mazzoni et al. 2015 LFP proxy / g_L"},
                ),
            }
            if spec.name in spike_files:
                # written by the circuit's own rank; the link makes this file read as one
                g["spikes"] = h5py.ExternalLink(
                    spike_files[spec.name], f"/circuits/{spec.name}/spikes"
                )
            self.circuit_series[spec.name] = series

    def record_window(
        self,
        obs: np.ndarray,
        outputs: dict,
        states: np.ndarray | None = None,
        silenced: np.ndarray | None = None,
    ) -> None:
        """obs: (n_steps, n_regions) observable of one window, proxies filled in (a
        circuit's field proxy, mV); states: (n_steps, n_regions, n_state) raw states if
        record.states asks for them; silenced: regions with no source (lesioned)."""
        samples = self.decimate(obs)
        self.store.append(self.regions, samples)
        for k, ds in self.states.items():
            x = states[:, :, k]  # the window's own array: marking it changes nothing else
            x[:, self._proxies] = np.nan  # a proxy node's own state is not integrated
            self.store.append(ds, x)
        if self.source_model is not None and len(samples):
            moments = self.source_model.moments(samples)
            if silenced is not None:
                moments[:, silenced] = 0.0
            if self.source_series is not None:
                self.store.append(self.source_series, moments)
            for sensor in self.sensors.values():
                self.store.append(sensor.series, sensor.rows(moments))
        if self.bold is not None:
            self.store.append(self.bold_series, self.bold(samples))
        for name, (rate, field) in outputs.items():
            series = self.circuit_series[name]
            self.store.append(series["rate"], rate)
            self.store.append(series["field"], field)

    def get_state(self) -> dict:
        """What the next window's record depends on: the averaging block in progress, the
        BOLD model's state, and how many rows each series holds."""
        state = {f"decimate/{k}": v for k, v in self.decimate.get_state().items()}
        if self.bold is not None:
            state |= {f"bold/{k}": v for k, v in self.bold.get_state().items()}
        return state | self.store.positions()

    def set_state(self, state: dict) -> None:
        self.decimate.set_state(substate(state, "decimate/"))
        if self.bold is not None:
            self.bold.set_state(substate(state, "bold/"))

    def close(self, complete: bool, attrs: dict | None = None) -> None:
        self.store.close(complete, attrs)


#: where an output keeps its region labels (every per-region series points to it)
LABELS = "/connectome/labels"


def write_connectome(store: Store, conn) -> None:
    """The connectome, once, in memory that follows its edges: /connectome/labels (a
    dataset of strings), /connectome/weights and /connectome/lengths (mm) as CSR groups
    (``Store.write_sparse``; ``multiscale.outputs.read_connectome`` reads them back, and
    the dense datasets of earlier outputs)."""
    store.file.create_group("connectome").attrs["n_regions"] = conn.n_regions
    store.write_names(LABELS, conn.labels, "region labels, in the order of every region axis")
    store.write_sparse(
        "connectome/weights",
        conn.weights_sparse,
        "1",
        {"what": "W[i, j]: the connection from region j onto region i"},
    )
    store.write_sparse(
        "connectome/lengths",
        conn.lengths_sparse,
        "mm",
        {"what": "tract length from region j to region i"},
    )


def _named(record, kind: str) -> str:
    """The forward model of record.<kind> as the experiment names it."""
    spec = record.sensors()[kind]
    if isinstance(spec, dict):
        return f"file:{spec['file']} ({spec['unit']})"
    return "sphere:standard_1020 (auto)" if spec == "auto" else str(spec)


class SpikeStore:
    """Spikes of the circuits on one rank, streamed as they come. On the engine's rank they
    go into the main file; on another rank into ``<output>.rank<r>.h5`` next to it, which
    the main file links to."""

    def __init__(self, store: Store, own: bool, circuits: dict) -> None:
        self.store = store
        self.own = own
        self.series = {}
        for name, circuit in circuits.items():
            for pop in circuit.POPULATIONS:
                base = f"circuits/{name}/spikes/{pop}"
                self.series[(name, pop)] = (
                    store.create_series(f"{base}/times", None, "ms"),
                    store.create_series(f"{base}/indices", None, "1", dtype="i4"),
                )
                store.file[base].attrs["n_cells"] = len(circuit.populations[pop])

    def write(self, name: str, spikes: dict) -> None:
        for pop, (t, i) in spikes.items():
            ts, idx = self.series[(name, pop)]
            self.store.append(ts, t)
            self.store.append(idx, i)

    def close(self, complete: bool) -> None:
        if self.own:
            self.store.close(complete)


class NoSpikes:
    """Spikes are not recorded (record.spikes: false)."""

    store = None

    def write(self, name: str, spikes: dict) -> None:
        pass

    def close(self, complete: bool) -> None:
        pass
