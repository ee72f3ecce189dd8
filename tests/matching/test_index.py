from app.matching.index import AliasIndex, EntityRecord
from app.matching.normalize import normalize

TTP = EntityRecord(
    "ttp", "Tehreek-e-Taliban Pakistan", "organization", ("TTP", "Pakistani Taliban")
)
TLP = EntityRecord("tlp", "Tehreek-e-Labbaik Pakistan", "organization", ("TLP",))


def ids(index: AliasIndex, text: str) -> list[str]:
    return [p.entity_id for p in index.exact(normalize(text))]


def test_name_and_aliases_are_indexed_under_their_normal_form() -> None:
    index = AliasIndex.build([TTP, TLP])
    assert ids(index, "tehreek e taliban pakistan") == ["ttp"]
    assert ids(index, "Pakistani-Taliban") == ["ttp"]
    assert ids(index, "TLP") == ["tlp"]
    assert ids(index, "Taliban") == []
    assert (index.entity_count, index.alias_count) == (2, 3)


def test_changes_make_a_new_snapshot_and_leave_the_old_one_alone() -> None:
    old = AliasIndex.build([TTP, TLP])
    renamed = EntityRecord("ttp", "TTP group", "organization", ("Tehrik-i-Taliban",))
    new = old.with_changes([renamed], removed=["tlp"])
    assert ids(new, "Tehrik-i-Taliban") == ["ttp"]
    assert ids(new, "Pakistani Taliban") == []
    assert ids(new, "TLP") == []
    assert new.entity("tlp") is None
    assert new.entity("ttp") == renamed
    assert (new.entity_count, new.alias_count) == (1, 1)
    # The old snapshot is untouched.
    assert ids(old, "Pakistani Taliban") == ["ttp"]
    assert ids(old, "TLP") == ["tlp"]


def test_successive_changes_accumulate_in_the_overlay() -> None:
    index = AliasIndex.build([TTP])
    index = index.with_changes([TLP])
    index = index.with_changes([EntityRecord("x", "Xyz", "thing")])
    assert sorted(e.id for e in index.entities()) == ["tlp", "ttp", "x"]
    index = index.with_changes([], removed=["tlp"])
    assert sorted(e.id for e in index.entities()) == ["ttp", "x"]
    assert index.overlay_size == 1
