"""Clip ids and the person split (models/train/data/manifest.py)."""
from manifest import Clip, clip_id, make_split


def clips():
    out = []
    for p in range(30):
        for j in range(1 + p % 3):
            out.append(Clip(f"owner_repo__dir_person{p}_take {j}.mp4", f"P{p:02d}", 256, 256, 25.0, 100))
    return out


def test_split_is_by_person_deterministic_and_complete():
    cs = clips()
    a, b = make_split(cs), make_split(list(reversed(cs)))
    assert a == b
    train, val = set(a["train"]["people"]), set(a["val"]["people"])
    assert not train & val and len(val) == 6 and len(train) == 24
    by_id = {c.id: c.person for c in cs}
    assert {by_id[c] for c in a["val"]["clips"]} == val
    assert {by_id[c] for c in a["train"]["clips"]} == train
    assert len(a["train"]["clips"]) + len(a["val"]["clips"]) == len(cs)
    assert make_split(cs, seed=1) != a


def test_clip_ids_are_filesystem_safe_and_keep_the_extension():
    assert clip_id("a_b__c d/e.mov") == "a_b__c_d_e_mov"
    assert clip_id("x.mp4") != clip_id("x.mov")
