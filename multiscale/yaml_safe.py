"""YAML read so that a file means one thing and cannot exhaust the machine.

PyYAML's safe loader still expands aliases (a ten-line "billion laughs" file becomes
gigabytes), keeps the last of two equal keys without a word, and decodes bytes with
its own guesses. Experiment files are small and written by hand, so the rules here are
strict: at most :data:`MAX_BYTES`, UTF-8, no anchors or aliases, no duplicate keys.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

#: largest experiment file read (1 MiB); hand-written files are a few kB
MAX_BYTES = 1 << 20


class YamlError(ValueError):
    """A document that is not read: too large, not UTF-8, not YAML, or ambiguous."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors, aliases and duplicate mapping keys."""

    def compose_node(self, parent, index):  # type: ignore[override]
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            mark = event.start_mark
            raise YamlError(
                f"line {mark.line + 1}, column {mark.column + 1}: anchors and aliases "
                f"(&name, *name) are not allowed in experiment files; write the values out"
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):  # type: ignore[override]
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: the base class reports it
                continue
            if first is not None:
                mark = key_node.start_mark
                raise YamlError(
                    f"line {mark.line + 1}: duplicate key {key!r} (first on line "
                    f"{first.line + 1}); each key may appear once in a mapping"
                )
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def loads(text: str) -> Any:
    """Parse one YAML document with the strict rules (a --set value, a file's text)."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise YamlError(f"larger than the limit of {MAX_BYTES} bytes (1 MiB)")
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except YamlError:
        raise
    except yaml.YAMLError as err:
        raise YamlError(f"not valid YAML: {err}") from err
    except ValueError as err:  # e.g. an integer of more digits than Python converts
        raise YamlError(f"not a usable YAML value: {err}") from err
    except RecursionError as err:
        raise YamlError("nested too deeply") from err


def load_file(path: Path) -> tuple[Any, str]:
    """The parsed document and its text; YamlError says what is wrong (OSError passes)."""
    with open(path, "rb") as f:
        raw = f.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise YamlError(
            f"the file is larger than the limit of {MAX_BYTES} bytes (1 MiB) for experiment files"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise YamlError(
            f"not UTF-8 text: byte {raw[err.start]:#04x} at byte offset {err.start} "
            f"cannot be decoded ({err.reason}); save the file as UTF-8"
        ) from err
    return loads(text), text
