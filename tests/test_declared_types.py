"""Declared types in the store: imports declare them, and entities keep to them."""

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from app import declared_types, store
from app.aliasfile import dump_alias_file, parse_alias_file, read_alias_file
from app.errors import Conflict, UnknownType
from app.models.api import EntityCreate, EntityUpdate
from app.models.tables import Change
from tests.conftest import SMALL_TABLE

# The small table's types (organization, location), declared.
DECLARED = """types:
  - {id: location, description: A place.}
  - {id: organization, description: A group or body.}
"""


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        table = parse_alias_file(SMALL_TABLE.read_bytes())
        store.import_table(session=session, actor="t", table=table, mode="merge", allow_shared=True)
        yield session


@pytest.fixture
def declared(session: Session) -> Session:
    store.import_table(session=session, actor="t", table=parse_alias_file(DECLARED), mode="merge")
    return session


def import_text(session: Session, text: str, mode: store.ImportMode = "merge") -> None:
    # The small table gives "Taliban" to two entities; these tests are about types.
    source = read_alias_file(text.encode())
    store.import_alias_file(session=session, actor="t", source=source, mode=mode, allow_shared=True)


def entity(entity_type: str) -> EntityCreate:
    return EntityCreate(id="jaish", name="Jaish-e-Mohammed", type=entity_type)


def test_a_merge_declares_types_without_touching_the_entities(declared: Session) -> None:
    assert declared_types.declared_ids(session=declared) == ["location", "organization"]
    assert len(store.export_table(session=declared).entities) == 4


def test_without_declared_types_a_type_is_a_free_word(session: Session) -> None:
    store.create_entity(session=session, actor="t", data=entity("organisation"))
    assert store.get_entity(session=session, entity_id="jaish").type == "organisation"


def test_an_undeclared_type_is_refused_with_the_closest_declared_one(declared: Session) -> None:
    with pytest.raises(
        UnknownType, match="'organisation' is not declared; did you mean 'organization'"
    ):
        store.create_entity(session=declared, actor="t", data=entity("organisation"))
    with pytest.raises(UnknownType, match="did you mean 'organization'"):
        store.update_entity(
            session=declared, actor="t", entity_id="ttp", data=EntityUpdate(type="Organization")
        )
    assert store.get_entity(session=declared, entity_id="ttp").type == "organization"


def test_a_type_far_from_every_declared_one_has_no_suggestion(declared: Session) -> None:
    with pytest.raises(UnknownType) as refused:
        store.create_entity(session=declared, actor="t", data=entity("weapon"))
    assert refused.value.detail == (
        "type 'weapon' is not declared (declared: location, organization)"
    )


def test_a_declared_type_is_accepted(declared: Session) -> None:
    created = store.create_entity(session=declared, actor="t", data=entity("organization"))
    assert created.type == "organization"


def test_an_import_whose_entity_has_an_undeclared_type_stores_nothing(declared: Session) -> None:
    before = store.export_table(session=declared)
    text = "entities:\n  - {id: jaish, name: Jaish-e-Mohammed, type: organisation}\n"
    # A replace declares exactly the file's types: the file lists them itself.
    for mode, file in (("merge", text), ("replace", DECLARED + text)):
        with pytest.raises(UnknownType) as refused:
            import_text(declared, file, mode)
        assert refused.value.detail == (
            "entity 'jaish' has the type 'organisation', which is not declared; "
            "did you mean 'organization'?"
        )
        assert store.export_table(session=declared) == before


def test_types_listed_after_the_entities_are_checked_at_the_end(session: Session) -> None:
    text = (
        "entities:\n  - {id: jaish, name: Jaish-e-Mohammed, type: organisation}\n"
        "types:\n  - {id: organization, description: A group.}\n"
    )
    with pytest.raises(UnknownType, match="'jaish' has the type 'organisation'"):
        import_text(session, text, "replace")
    assert declared_types.declared_ids(session=session) == []
    assert len(store.export_table(session=session).entities) == 4


def test_declaring_types_refuses_entities_already_stored_with_others(session: Session) -> None:
    with pytest.raises(UnknownType) as refused:
        import_text(session, "types:\n  - {id: organization, description: A group.}\n")
    assert (
        refused.value.detail == "entity 'islamabad' has the type 'location', which is not declared"
    )
    assert declared_types.declared_ids(session=session) == []


def test_the_count_of_other_entities_of_an_undeclared_type_is_given(session: Session) -> None:
    with pytest.raises(UnknownType, match="entity 'afghan-taliban' \\(and 2 more\\) has the type"):
        import_text(session, "types:\n  - {id: location, description: A place.}\n")


def test_a_merge_updates_descriptions_and_adds_types(declared: Session) -> None:
    import_text(
        declared,
        "types:\n  - {id: location, description: Somewhere.}\n"
        "  - {id: person, description: Someone.}\n",
    )
    listed = declared_types.list_types(session=declared).items
    assert [(t.id, t.description, t.entities) for t in listed] == [
        ("location", "Somewhere.", 1),
        ("organization", "A group or body.", 3),
        ("person", "Someone.", 0),
    ]


def test_a_merge_refuses_a_type_that_differs_only_in_case(declared: Session) -> None:
    with pytest.raises(Conflict, match="'Location' is declared already as 'location'"):
        import_text(declared, "types:\n  - {id: Location, description: A place.}\n")


def test_a_merge_that_would_declare_more_types_than_a_file_may_list_is_refused(
    declared: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The export of such a table could not be imported again (4 types here, for speed)."""
    monkeypatch.setattr(declared_types, "MAX_DECLARED_TYPES", 4)
    import_text(
        declared, "types:\n  - {id: person, description: P.}\n  - {id: event, description: E.}\n"
    )
    revision = store.current_revision(session=declared)
    with pytest.raises(Conflict, match="would declare 5 types; a table declares at most 4"):
        import_text(declared, "types:\n  - {id: vehicle, description: V.}\n")
    assert store.current_revision(session=declared) == revision
    assert len(declared_types.declared_ids(session=declared)) == 4


def test_a_replace_makes_the_declared_types_the_files(declared: Session) -> None:
    import_text(
        declared,
        "types:\n  - {id: city, description: A town.}\n"
        "entities:\n  - {id: kabul, name: Kabul, type: city}\n",
        "replace",
    )
    assert declared_types.declared_ids(session=declared) == ["city"]
    import_text(declared, "entities:\n  - {id: kabul, name: Kabul, type: anything}\n", "replace")
    assert declared_types.declared_ids(session=declared) == []


def test_without_declared_types_the_types_in_use_are_listed(session: Session) -> None:
    listed = declared_types.list_types(session=session).items
    assert [(t.id, t.description, t.entities) for t in listed] == [
        ("location", None, 1),
        ("organization", None, 3),
    ]


def test_export_then_import_gives_back_the_same_table_and_types(declared: Session) -> None:
    exported = dump_alias_file(store.export_table(session=declared))
    assert exported.startswith("types:\n- id: location\n  description: A place.\n")
    import_text(
        declared, "types: []\nentities:\n  - {id: kabul, name: Kabul, type: x}\n", "replace"
    )
    assert declared_types.declared_ids(session=declared) == []
    import_text(declared, exported, "replace")
    assert dump_alias_file(store.export_table(session=declared)) == exported
    assert declared_types.declared_ids(session=declared) == ["location", "organization"]


def test_a_change_of_types_is_audited_and_an_unchanged_one_is_not(declared: Session) -> None:
    changes = declared.exec(select(Change).where(Change.action == "declare_types")).all()
    assert [change.detail for change in changes] == [
        {"before": {}, "after": {"location": "A place.", "organization": "A group or body."}}
    ]
    import_text(declared, DECLARED)
    again = declared.exec(select(Change).where(Change.action == "declare_types")).all()
    assert len(again) == 1


def test_a_change_of_types_alone_does_not_ask_for_a_whole_index_rebuild(session: Session) -> None:
    revision = store.current_revision(session=session)
    import_text(session, DECLARED)
    changes = store.changes_since(session=session, revision=revision)
    assert changes.revision == revision + 1
    assert not changes.whole_table
    assert changes.entity_ids == frozenset()


def test_the_reconciliation_types_are_the_declared_ones(declared: Session) -> None:
    import_text(declared, "types:\n  - {id: person, description: Someone.}\n")
    assert store.entity_types(session=declared) == ["location", "organization", "person"]
