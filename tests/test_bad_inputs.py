"""A corpus of bad experiment files and command lines: each is refused with exit code 2, a
message naming the field and the bad value, no traceback, quickly and in little memory.

Most cases run in-process through ``multiscale.cli.main`` (a subprocess costs ~3 s of
imports); the ones about resources (alias bomb, a billion neurons, a huge or non-UTF-8
file) and the command line itself run as real subprocesses under an address-space limit.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from multiscale.cli import main

ROOT = Path(__file__).resolve().parents[1]

#: a valid masses-only experiment (experiments/stroke_lesion.yaml, shorter)
BASE = """\
name: bad
seed: 42
duration: 2 s
connectome: {source: tvb76, conduction_speed: 3 m/s}
regions:
  model: jansen_rit
  parameters: {v0: 6 mV, mu: 0.22}
  coupling: {kind: sigmoidal_jansen_rit, a: 0.01}
  integrator: {dt: 0.1 ms, noise: {y4: 1.0e-3}}
perturbations:
  - {name: stroke, lesion: [rM1], at: 1 s}
record: {sampling_rate: 1000 Hz, eeg: tvb65}
output: {path: results/bad.h5}
"""

#: the same with a small E/I circuit in rM1 and an electrode into it
CIRCUIT = (
    BASE
    + """\
circuits:
  - {name: m1, model: ei_network, region: rM1, parameters: {n_E: 80, n_I: 20}}
stimuli:
  - {name: dbs, circuit: m1, population: E, frequency: 130 Hz, amplitude: 2 nA,
     width: 0.1 ms, at: 0.5 s}
"""
)

BRUNEL = BASE + (
    "circuits:\n  - {name: b, model: brunel2000, region: rM1, "
    "parameters: {n_E: 2000, n_I: 500, C_E: 100}}\n"
)


def variant(base: str, old: str, new: str) -> str:
    assert old in base, old
    return base.replace(old, new, 1)


# (id, file text, substrings the error message must contain)
BAD_FILES = [
    ("duration_bare", variant(BASE, "duration: 2 s", "duration: 10"),
     ["duration: got 10; expected a quantity in ms (a number without a unit"]),
    ("duration_bare_string", variant(BASE, "duration: 2 s", "duration: '10'"),
     ["duration: got '10'", "without a unit"]),
    ("speed_bare", variant(BASE, "conduction_speed: 3 m/s", "conduction_speed: 3"),
     ["connectome.conduction_speed: got 3;", "without a unit"]),
    ("dt_bare", variant(BASE, "dt: 0.1 ms", "dt: 0.1"),
     ["regions.integrator.dt: got 0.1;", "without a unit"]),
    ("at_bare", variant(BASE, "at: 1 s", "at: 1"),
     ["perturbations[0].at: got 1;", "without a unit"]),
    ("sampling_rate_bare", variant(BASE, "sampling_rate: 1000 Hz", "sampling_rate: 1000"),
     ["record.sampling_rate: got 1000;", "without a unit"]),
    ("bold_tr_bare", variant(BASE, "eeg: tvb65}", "eeg: tvb65, bold: {tr: 2}}"),
     ["record.bold.tr: got 2;", "without a unit"]),
    ("resolution_bare", BASE + "cosim: {resolution: 1}\n",
     ["cosim.resolution: got 1;", "without a unit"]),
    ("brian_dt_bare", BASE + "brian: {dt: 0.1}\n", ["brian.dt: got 0.1;", "without a unit"]),
    ("frequency_bare", variant(CIRCUIT, "frequency: 130 Hz", "frequency: 130"),
     ["stimuli[0].frequency: got 130;", "without a unit"]),
    ("width_bare", variant(CIRCUIT, "width: 0.1 ms", "width: 0.1"),
     ["stimuli[0].width: got 0.1;", "without a unit"]),
    ("electrode_bare", variant(CIRCUIT, "amplitude: 2 nA", "amplitude: 2"),
     ["stimuli[0].amplitude: got 2;", "without a unit"]),
    ("electrode_1e9_nA", variant(CIRCUIT, "amplitude: 2 nA", "amplitude: 1e9 nA"),
     ["stimuli[0].amplitude: got '1e9 nA'; expected a magnitude of at most 1000 nA"]),
    ("frequency_wrong_dimensions", variant(CIRCUIT, "frequency: 130 Hz", "frequency: 130 ms"),
     ["stimuli[0].frequency: got '130 ms'", "wrong dimensions"]),
    ("unknown_unit", variant(BASE, "duration: 2 s", "duration: 2 fortnights"),
     ["duration: got '2 fortnights'", "unknown unit 'fortnights'"]),
    ("duration_infinite", variant(BASE, "duration: 2 s", "duration: 1e400 s"),
     ["duration: got '1e400 s'", "not a finite number"]),
    ("duration_boolean", variant(BASE, "duration: 2 s", "duration: true"),
     ["duration: got True", "boolean"]),
    ("region_stimulus_wrong_unit", BASE + "stimuli:\n  - {regions: [rV1], variable: y4, "
     "kind: step, amplitude: 0.05 mV, at: 1 s}\n",
     ["stimuli[0].amplitude: got '0.05 mV'; expected a quantity in mV/ms/ms"]),
    ("n_E_fractional", variant(CIRCUIT, "n_E: 80", "n_E: 100.7"),
     ["circuits[0].parameters.n_E: got 100.7; expected a whole number"]),
    ("n_E_negative", variant(CIRCUIT, "n_E: 80", "n_E: -5"),
     ["circuits[0].parameters.n_E: got -5; expected a value >= 1"]),
    ("n_I_zero", variant(CIRCUIT, "n_I: 20", "n_I: 0"),
     ["circuits[0].parameters.n_I: got 0; expected a value >= 1"]),
    ("n_E_boolean", variant(CIRCUIT, "n_E: 80", "n_E: true"),
     ["circuits[0].parameters.n_E: got True", "boolean"]),
    ("p_conn_above_one", variant(CIRCUIT, "n_I: 20}", "n_I: 20, p_conn: 1.5}"),
     ["circuits[0].parameters.p_conn: got 1.5; expected a value <= 1"]),
    ("p_conn_zero", variant(CIRCUIT, "n_I: 20}", "n_I: 20, p_conn: 0}"),
     ["circuits[0].parameters.p_conn: got 0; expected a value > 0"]),
    ("n_ext_fractional", variant(CIRCUIT, "n_I: 20}", "n_I: 20, n_ext: 10.5}"),
     ["circuits[0].parameters.n_ext: got 10.5; expected a whole number"]),
    ("brunel_C_E_above_n_E", variant(BRUNEL, "C_E: 100", "C_E: 2000"),
     ["circuits[0].parameters.C_E: got 2000; expected fewer than n_E (2000)"]),
    ("brunel_C_I_above_n_I", variant(BRUNEL, "n_I: 500", "n_I: 20"),
     ["circuits[0].parameters.n_I: got 20; expected more than C_I"]),
    ("brunel_theta_below_reset", variant(BRUNEL, "C_E: 100", "C_E: 100, theta: 5 mV"),
     ["circuits[0].parameters.theta: got 5; expected above V_r (10)"]),
    ("knob_set_negative", variant(CIRCUIT, "  - {name: stroke, lesion: [rM1], at: 1 s}",
                                  "  - {circuit: m1, knob: g_GABA, set: -1, at: 1 s}"),
     ["perturbations[0].set: got -1, which makes g_GABA -1; expected a value >= 0"]),
    ("seed_fractional", variant(BASE, "seed: 42", "seed: 1.5"),
     ["seed: got 1.5; expected an integer"]),
    ("seed_negative", variant(BASE, "seed: 42", "seed: -1"),
     ["seed: got -1; expected an integer >= 0"]),
    ("seed_boolean", variant(BASE, "seed: 42", "seed: true"),
     ["seed: got True; expected an integer"]),
    ("seed_too_large", variant(BASE, "seed: 42", "seed: 1099511627776"),
     ["seed: got 1099511627776; expected an integer <= 4294967295"]),
    ("coupling_nan", variant(BASE, "a: 0.01", "a: .nan"),
     ["regions.coupling.a: got nan", "not a finite number"]),
    ("region_parameter_nan", variant(BASE, "mu: 0.22", "mu: .nan"),
     ["regions.parameters.mu: got nan", "not a finite number"]),
    ("region_parameter_nan_by_label", variant(BASE, "mu: 0.22", "mu: {default: 0.22, rM1: .nan}"),
     ["regions.parameters.mu: got", "not a finite number"]),
    ("region_parameter_boolean", variant(BASE, "v0: 6 mV", "v0: false"),
     ["regions.parameters.v0: got False", "boolean"]),
    ("noise_nan", variant(BASE, "y4: 1.0e-3", "y4: .nan"),
     ["regions.integrator.noise.y4: got nan; expected a finite number"]),
    ("noise_inf", variant(BASE, "y4: 1.0e-3", "y4: .inf"),
     ["regions.integrator.noise.y4: got inf; expected a finite number"]),
    ("initial_nan", variant(BASE, "  coupling:", "  initial: {y0: .nan}\n  coupling:"),
     ["regions.initial.y0: got nan; expected a finite number"]),
    ("scale_nan", variant(BASE, "  - {name: stroke, lesion: [rM1], at: 1 s}",
                          "  - {regions: [rM1], parameter: A, scale: .nan, at: 1 s}"),
     ["perturbations[0].scale: got nan", "not a finite number"]),
    ("duplicate_key", variant(BASE, "seed: 42", "seed: 42\nseed: 43"),
     ["line 3: duplicate key 'seed' (first on line 2)"]),
    ("alias", variant(BASE, "seed: 42", "seed: &s 42\nx: *s"),
     ["anchors and aliases (&name, *name) are not allowed"]),
    ("broken_yaml", "name: [unclosed\n", ["not valid YAML"]),
    ("top_level_list", "- 1\n- 2\n", ["(top level): got [1, 2]; expected a mapping"]),
    ("top_level_scalar", "just words\n", ["(top level): got 'just words'; expected a mapping"]),
    ("empty_file", "", ["duration: got (missing); expected this field (it is required)"]),
    ("duration_null", variant(BASE, "duration: 2 s", "duration: null"),
     ["duration: got None; expected a value (null is not allowed here)"]),
    ("region_stimulus_regions_null", BASE + "stimuli:\n  - {regions: null, variable: y4, "
     "kind: step, amplitude: 0.05, at: 1 s}\n", ["stimuli[0].regions: got None"]),
    ("region_parameter_list_with_nan",
     variant(BASE, "mu: 0.22", "mu: [" + "0.22, " * 75 + ".nan]"),
     ["regions.parameters.mu: got", "not a finite number"]),
    ("noise_beyond_float_range", variant(BASE, "y4: 1.0e-3", "y4: " + "9" * 400),
     ["regions.integrator.noise.y4: got", "expected a finite number"]),
]  # fmt: skip


@pytest.mark.parametrize("text,expected", [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES])
def test_bad_file_is_refused(tmp_path, capsys, text, expected):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    assert main(["validate", str(path)]) == 2
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    assert str(path) in out.err
    for part in expected:
        assert part in out.err, (part, out.err)


def test_every_phase_is_reported_at_once(tmp_path, capsys):
    """A field error does not hide the checks against the connectome and the models."""
    text = variant(CIRCUIT, "duration: 2 s", "duration: 10")
    text = variant(text, "lesion: [rM1]", "lesion: [rM9]")
    text = variant(text, "n_E: 80", "n_E: 100.7")
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "3 problem(s)" in err
    assert "duration: got 10;" in err
    assert "perturbations[0].lesion: got 'rM9'" in err
    assert "circuits[0].parameters.n_E: got 100.7" in err


# (id, --set arguments, substrings of the message)
BAD_SETS = [
    ("index_out_of_range", ["circuits.3.name=x"],
     ["--set circuits.3.name: got index 3; circuits has 1 item(s)"]),
    ("into_a_scalar", ["duration.x=1"],
     ["--set duration.x: got 'x' under duration, which is '2 s'"]),
    ("no_equals", ["foo"], ["--set foo: got 'foo'; expected PATH=VALUE"]),
    ("empty_path", ["=1"], ["--set =1: got '=1'; expected PATH=VALUE"]),
    ("empty_segment", ["circuits..name=x"], ["--set circuits..name: got 'circuits..name'"]),
    ("broken_value", ["duration=[2 s"],
     ["--set duration=[2 s: got the value '[2 s'", "not valid YAML"]),
    ("alias_value", ["seed=&a 1"], ["--set seed=&a 1", "anchors and aliases"]),
    ("index_not_a_number", ["circuits.first.name=x"], ["--set circuits.first.name: got 'first'"]),
    ("bare_number_value", ["duration=5"], ["duration: got 5;", "without a unit"]),
]  # fmt: skip


@pytest.mark.parametrize("sets,expected", [c[1:] for c in BAD_SETS], ids=[c[0] for c in BAD_SETS])
def test_bad_set_is_refused(tmp_path, capsys, sets, expected):
    path = tmp_path / "ok.yaml"
    path.write_text(CIRCUIT)
    argv = ["validate", str(path)]
    for s in sets:
        argv += ["--set", s]
    assert main(argv) == 2
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    for part in expected:
        assert part in out.err, (part, out.err)


@pytest.mark.parametrize(
    "field,value",
    [
        ("frequency", "130 /s"),
        ("frequency", "130 1/s"),
        ("frequency", "0.13 1/ms"),
        ("frequency", "130 s^-1"),
        ("frequency", "0.13 kHz"),
        ("amplitude", "2000 pA"),
    ],
)
def test_usual_spellings_pass(tmp_path, capsys, field, value):
    old = {"frequency": "frequency: 130 Hz", "amplitude": "amplitude: 2 nA"}[field]
    path = tmp_path / "ok.yaml"
    path.write_text(variant(CIRCUIT, old, f"{field}: {value}"))
    assert main(["validate", str(path)]) == 0, capsys.readouterr().err


def test_region_stimulus_amplitude_in_its_unit_or_bare(tmp_path):
    from multiscale.config import load_experiment

    for amplitude, expected in (("0.05 mV/ms^2", 0.05), ("0.05", 0.05), ("50 mV/s/ms", 0.05)):
        path = tmp_path / "ok.yaml"
        path.write_text(
            BASE + "stimuli:\n  - {regions: [rV1], variable: y4, kind: sinusoid, "
            f"amplitude: {amplitude}, frequency: 8 Hz, at: 1 s}}\n"
        )
        assert load_experiment(path).stimuli[0].amplitude == pytest.approx(expected)


def test_validate_prints_the_estimate(tmp_path, capsys):
    path = tmp_path / "ok.yaml"
    path.write_text(CIRCUIT)
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "estimate: memory" in out and "circuit m1: 100 neurons" in out


# --- as real processes: bounded time and memory ----------------------------------------
ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)

PROCESS_CASES = [
    ("alias_bomb", ALIAS_BOMB, [], ["anchors and aliases"]),
    ("billion_neurons", variant(CIRCUIT, "n_E: 80", "n_E: 1e9"), [],
     ["circuits[0].parameters: got {'n_E': 1000000000.0, 'n_I': 20.0} for ei_network",
      "expected at most the"]),
    ("billion_neurons_brunel", variant(BRUNEL, "n_E: 2000", "n_E: 1e9"), [],
     ["circuits[0].parameters: got", "1,000,000,500 neurons"]),
    ("non_utf8", BASE.encode() + b"description: caf\xe9\n", [],
     ["not UTF-8 text: byte 0xe9 at byte offset"]),
    ("too_large", BASE + "#" * (1 << 20) + "\n", [], ["larger than the limit of 1048576 bytes"]),
    ("duplicate_key", variant(BASE, "seed: 42", "seed: 42\nseed: 43"), [],
     ["duplicate key 'seed'"]),
    ("deeply_nested", "a: " + "[" * 100000 + "\n", [], ["bad.yaml"]),
    ("set_index_out_of_range", CIRCUIT, ["--set", "circuits.3.x=1"], ["--set circuits.3.x"]),
    ("set_into_scalar", CIRCUIT, ["--set", "duration.x=1"], ["--set duration.x"]),
    ("set_without_equals", CIRCUIT, ["--set", "foo"], ["--set foo"]),
    ("set_empty_path", CIRCUIT, ["--set", "=1"], ["--set =1"]),
    ("run_duration_bare", variant(BASE, "duration: 2 s", "duration: 10"), ["run"],
     ["duration: got 10;"]),
    ("run_billion_neurons", variant(CIRCUIT, "n_E: 80", "n_E: 1e9"), ["run"],
     ["circuits[0].parameters: got {'n_E': 1000000000.0"]),
]  # fmt: skip


@pytest.mark.parametrize(
    "content,extra,expected", [c[1:] for c in PROCESS_CASES], ids=[c[0] for c in PROCESS_CASES]
)
def test_bad_input_in_a_process(tmp_path, content, extra, expected):
    path = tmp_path / "bad.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    command = "run" if extra == ["run"] else "validate"
    options = [] if extra == ["run"] else extra
    start = time.monotonic()
    code, stdout, stderr, rss_kb = _run_alone(
        [sys.executable, "-m", "multiscale.cli", command, str(path), *options], tmp_path, 60
    )
    elapsed = time.monotonic() - start
    assert code == 2, stderr
    assert "Traceback" not in stdout + stderr, stderr
    for part in expected:
        assert part in stderr, (part, stderr)
    assert elapsed < 30
    assert rss_kb < 1.5 * 2**20, f"the command used {rss_kb / 1024:.0f} MB"


#: runs argv[2:] with 4 GB of address space (Brian2's imports reserve about 1.5 GB) and
#: writes its peak RSS (kB) to argv[1]
_MEASURED = (
    "import resource, subprocess, sys\n"
    "resource.setrlimit(resource.RLIMIT_AS, (4 * 2**30, 4 * 2**30))\n"
    "code = subprocess.call(sys.argv[2:])\n"
    "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "open(sys.argv[1], 'w').write(str(rss))\n"
    "sys.exit(code)\n"
)


def _run_alone(argv: list[str], cwd, timeout_s: float) -> tuple[int, str, str, int]:
    """Run ``argv`` with an address-space limit of 4 GB: its exit code, stdout, stderr and
    its own peak RSS (kB). Measured by a small Python process that starts it: this test's
    process may hold gigabytes (a validation run earlier in the same worker), and Linux
    counts what a process held when it forked into its child's peak (and RUSAGE_CHILDREN
    into every child's)."""
    rss_file = cwd / "rss_kb.txt"
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURED, str(rss_file), *argv],
        cwd=cwd, capture_output=True, text=True, timeout=timeout_s,
    )  # fmt: skip
    return proc.returncode, proc.stdout, proc.stderr, int(rss_file.read_text())


def test_a_billion_neurons_is_refused_fast_and_small(tmp_path):
    """The refusal computes sizes from parameters: no allocation grows with n_E."""
    import tracemalloc

    from multiscale.config import ConfigError, load_experiment

    ok, bad = tmp_path / "ok.yaml", tmp_path / "bad.yaml"
    ok.write_text(CIRCUIT)
    bad.write_text(variant(CIRCUIT, "n_E: 80", "n_E: 1e9"))
    load_experiment(ok)  # imports and the connectome's cache, as in any process
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(ConfigError, match="1,000,000,020 neurons"):
        load_experiment(bad)
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 1.0 and peak < 100 * 2**20, (elapsed, peak)


def test_mutated_files_give_config_errors_only(tmp_path):
    """Every field of a valid file replaced by values of the wrong kind, one to three at a
    time: validation reports them (ConfigError), it never crashes."""
    import contextlib
    import copy
    import random

    import yaml

    from multiscale.config import ConfigError, load_experiment

    junk = [None, True, -1, 1.5, float("nan"), float("inf"), "x", [], {}, [None], {"a": 1},
            "10 Hz", "5 ms", "all", {"hubs": "x"}, 10**30, "1e400"]  # fmt: skip
    base = yaml.safe_load(CIRCUIT)
    paths = []

    def walk(node, path):
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for k, v in items:
            paths.append([*path, k])
            if isinstance(v, dict | list):
                walk(v, [*path, k])

    walk(base, [])
    rng = random.Random(0)
    path = tmp_path / "m.yaml"
    for _ in range(300):
        data = copy.deepcopy(base)
        for _ in range(rng.choice([1, 2, 3])):
            node, keys = data, rng.choice(paths)
            try:
                for k in keys[:-1]:
                    node = node[k]
                node[keys[-1]] = rng.choice(junk)
            except (KeyError, IndexError, TypeError):
                pass  # an earlier mutation replaced a parent
        path.write_text(yaml.safe_dump(data))
        with contextlib.suppress(ConfigError):
            load_experiment(path)
