"""A small Mapbox Vector Tile reader for the tests: layers, their features' properties and
geometry types (spec 2.1, protobuf wire format), enough to check what a tile holds."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Feature", "Layer", "read_tile"]

GEOMETRY_TYPES = {0: "unknown", 1: "point", 2: "line", 3: "polygon"}


@dataclass
class Feature:
    type: str
    properties: dict[str, Any]


@dataclass
class Layer:
    name: str = ""
    features: list[Feature] = field(default_factory=list)

    def values(self, key: str) -> set[Any]:
        return {f.properties[key] for f in self.features if key in f.properties}


def read_tile(data: bytes) -> dict[str, Layer]:
    layers = {}
    for number, value in _fields(data):
        if number == 3:
            layer = _layer(value)
            layers[layer.name] = layer
    return layers


def _layer(data: bytes) -> Layer:
    layer = Layer()
    keys: list[str] = []
    values: list[Any] = []
    raw: list[tuple[int, list[int]]] = []
    for number, value in _fields(data):
        if number == 1:
            layer.name = value.decode()
        elif number == 2:
            raw.append(_feature(value))
        elif number == 3:
            keys.append(value.decode())
        elif number == 4:
            values.append(_value(value))
    for kind, tags in raw:
        properties = {keys[k]: values[v] for k, v in zip(tags[::2], tags[1::2], strict=True)}
        layer.features.append(Feature(GEOMETRY_TYPES[kind], properties))
    return layer


def _feature(data: bytes) -> tuple[int, list[int]]:
    kind, tags = 0, []
    for number, value in _fields(data):
        if number == 2:
            tags = _packed(value)
        elif number == 3:
            kind = value
    return kind, tags


def _value(data: bytes) -> Any:
    for number, value in _fields(data):
        if number == 1:
            return value.decode()
        if number == 2:
            return struct.unpack("<f", value)[0]
        if number == 3:
            return struct.unpack("<d", value)[0]
        if number in (4, 5):
            return value
        if number == 6:
            return (value >> 1) ^ -(value & 1)
        if number == 7:
            return bool(value)
    return None


def _packed(data: bytes) -> list[int]:
    out, pos = [], 0
    while pos < len(data):
        value, pos = _varint(data, pos)
        out.append(value)
    return out


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes) -> list[tuple[int, Any]]:
    """(field number, value): an int for varints, bytes for the rest."""
    out: list[tuple[int, Any]] = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        value: Any
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 1:
            value, pos = data[pos : pos + 8], pos + 8
        elif wire == 2:
            length, pos = _varint(data, pos)
            value, pos = data[pos : pos + length], pos + length
        elif wire == 5:
            value, pos = data[pos : pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        out.append((number, value))
    return out
