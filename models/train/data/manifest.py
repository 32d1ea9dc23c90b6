"""MANIFEST.tsv rows, clip ids and the person split (standard library only)."""
from __future__ import annotations

import csv
import random
import re
from dataclasses import dataclass
from pathlib import Path

KIND = "talking-head"      # manifest rows used
SPLIT_VERSION = 1
SPLIT_SEED = 20261126      # seeded shuffle of the sorted person ids
VAL_FRACTION = 0.2         # share of people in validation


@dataclass
class Clip:
    file: str
    person: str      # "P24": first word of the manifest's person column
    width: int
    height: int
    fps: float
    frames: int      # as the manifest says (the decoded count can differ slightly)

    @property
    def id(self) -> str:
        return clip_id(self.file)


def clip_id(file: str) -> str:
    """Filesystem-safe, unique form of the manifest's `file` column: every run of characters
    outside [A-Za-z0-9_-] becomes one `_` (the extension is kept, as `_mp4`, so `x.mp4` and
    `x.mov` cannot collide)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", file)


def read_manifest(data_dir: Path, kind: str = KIND) -> list[Clip]:
    with open(Path(data_dir) / "MANIFEST.tsv", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    clips = [Clip(r["file"], r["person"].split()[0], int(r["width"]), int(r["height"]),
                  float(r["fps"]), int(r["frames"]))
             for r in rows if r["kind"] == kind]
    ids = [c.id for c in clips]
    if len(set(ids)) != len(ids):
        raise SystemExit("two manifest files map to the same clip id")
    return clips


def make_split(clips: list[Clip], seed: int = SPLIT_SEED, val_fraction: float = VAL_FRACTION) -> dict:
    """Split BY PERSON: shuffle the sorted person ids with a seeded RNG, the first
    round(val_fraction * n) are validation. No validation person is in any training clip."""
    people = sorted({c.person for c in clips})
    order = people[:]
    random.Random(seed).shuffle(order)
    n_val = round(val_fraction * len(people))
    val = set(order[:n_val])
    split = {"version": SPLIT_VERSION, "seed": seed, "val_fraction": val_fraction,
             "rule": "sorted person ids, random.Random(seed).shuffle (Python), first "
                     "round(val_fraction * n) people are validation, the rest train",
             "kind": KIND}
    for name, members in (("train", [p for p in people if p not in val]), ("val", sorted(val))):
        split[name] = {"people": members,
                       "clips": sorted(c.id for c in clips if c.person in members)}
    return split
