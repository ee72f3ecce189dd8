import json
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app import forms, store
from app.aliasfile import dump_alias_file, parse_alias_file, read_alias_file
from app.db import BULK_WRITE_CACHE_KIB
from app.errors import Conflict, InvalidAliasFile, NotFound, PreconditionFailed
from app.etags import etag_of, parse_if_match
from app.models.api import AliasCreate, AliasFile, EntityCreate, EntityUpdate, SharedForm
from app.models.tables import Alias, Change, Entity
from app.states import read_states
from tests.conftest import SMALL_TABLE


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        store.import_table(
            session=session,
            actor="test",
            table=parse_alias_file(SMALL_TABLE.read_bytes()),
            mode="merge",
            allow_shared=True,  # two entities are called Taliban
        )
        yield session


def entity(entity_id: str, *aliases: str) -> EntityCreate:
    return EntityCreate(
        id=entity_id, name=f"Name of {entity_id}", type="thing", aliases=list(aliases)
    )


def test_create_and_read_an_entity(session: Session) -> None:
    created = store.create_entity(session=session, actor="t", data=entity("new", "N1", "N2"))
    assert [a.text for a in created.aliases] == ["N1", "N2"]
    assert store.get_entity(session=session, entity_id="new") == created


def test_an_existing_id_is_a_conflict(session: Session) -> None:
    with pytest.raises(Conflict, match="'ttp' already exists"):
        store.create_entity(session=session, actor="t", data=entity("ttp"))


def test_unknown_ids_are_not_found(session: Session) -> None:
    with pytest.raises(NotFound):
        store.get_entity(session=session, entity_id="nope")
    with pytest.raises(NotFound):
        store.delete_alias(session=session, actor="t", entity_id="tlp", alias_id=1)  # ttp's alias


def test_an_alias_the_entity_has_once_normalised_is_a_conflict(session: Session) -> None:
    with pytest.raises(Conflict, match="repeats alias 'TTP'"):
        store.add_alias(session=session, actor="t", entity_id="ttp", data=AliasCreate(text="ttp"))
    with pytest.raises(Conflict, match="is the name"):
        store.add_alias(
            session=session,
            actor="t",
            entity_id="tlp",
            data=AliasCreate(text="TEHREEK E LABBAIK PAKISTAN"),
        )


def test_renaming_onto_an_alias_is_a_conflict(session: Session) -> None:
    with pytest.raises(Conflict):
        store.update_entity(
            session=session, actor="t", entity_id="ttp", data=EntityUpdate(name="TTP")
        )


def test_an_alias_another_entity_has_is_refused_naming_the_owner(session: Session) -> None:
    with pytest.raises(Conflict, match=r"'TTP' \(form 'ttp'\) is held by 'ttp'"):
        store.add_alias(session=session, actor="t", entity_id="tlp", data=AliasCreate(text="TTP"))
    assert [a.text for a in store.get_entity(session=session, entity_id="tlp").aliases] == ["TLP"]


def test_the_same_alias_on_two_entities_is_allowed_when_asked(session: Session) -> None:
    edit = store.add_alias(
        session=session,
        actor="t",
        entity_id="tlp",
        data=AliasCreate(text="TTP"),
        allow_shared=True,
    )
    assert edit.alias.text == "TTP"
    assert forms.shared_forms(session, {"tlp": {"ttp"}}) == [
        SharedForm(form="ttp", entity_ids=["tlp", "ttp"])
    ]


def test_the_database_refuses_a_repeated_alias_form(session: Session) -> None:
    session.add(Alias(entity_id="ttp", text="T T P", normalized="ttp"))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()


def test_the_database_refuses_a_repeated_id(session: Session) -> None:
    session.add(Entity(id="ttp", name="again", type="x"))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()


def test_the_database_deletes_aliases_with_their_entity(session: Session) -> None:
    session.execute(text("DELETE FROM entity WHERE id = 'ttp'"))
    session.commit()
    assert session.exec(select(Alias).where(Alias.entity_id == "ttp")).all() == []


def test_deleting_an_entity_removes_its_aliases(session: Session) -> None:
    store.delete_entity(session=session, actor="t", entity_id="ttp")
    assert session.exec(select(Alias).where(Alias.entity_id == "ttp")).all() == []
    with pytest.raises(NotFound):
        store.get_entity(session=session, entity_id="ttp")


def test_update_changes_only_the_fields_sent(session: Session) -> None:
    before = store.get_entity(session=session, entity_id="ttp")
    after = store.update_entity(
        session=session, actor="t", entity_id="ttp", data=EntityUpdate(description="new words")
    )
    assert after.description == "new words"
    assert (after.name, after.type, after.aliases) == (before.name, before.type, before.aliases)


def test_list_filters_by_type_and_text(session: Session) -> None:
    assert store.list_entities(session=session).total == 4
    located = store.list_entities(session=session, entity_types=["LOCATION"])
    assert [e.id for e in located.items] == ["islamabad"]
    by_alias = store.list_entities(session=session, q="pakistani-taliban")
    assert [e.id for e in by_alias.items] == ["ttp"]
    by_name = store.list_entities(session=session, q="Labbaik")
    assert [e.id for e in by_name.items] == ["tlp"]
    assert store.list_entities(session=session, q="%").total == 0
    page = store.list_entities(session=session, limit=2, offset=1)
    assert (page.total, [e.id for e in page.items]) == (4, ["islamabad", "tlp"])


def test_every_commit_raises_the_revision_and_is_audited(session: Session) -> None:
    start = store.current_revision(session=session)
    store.add_alias(session=session, actor="ed", entity_id="tlp", data=AliasCreate(text="Labbaik"))
    store.delete_entity(session=session, actor="ed", entity_id="islamabad")
    assert store.current_revision(session=session) == start + 2
    changes = store.changes_since(session=session, revision=start)
    assert changes.entity_ids == {"tlp", "islamabad"}
    assert not changes.whole_table
    trail = session.exec(select(Change).where(Change.revision > start).order_by(Change.id)).all()
    assert [(c.actor, c.action, c.entity_id) for c in trail] == [
        ("ed", "add_alias", "tlp"),
        ("ed", "delete", "islamabad"),
    ]


def test_merge_adds_and_updates_without_removing(session: Session) -> None:
    table = parse_alias_file(
        "entities:\n"
        "  - id: ttp\n"
        "    name: Tehreek-e-Taliban Pakistan\n"
        "    type: organization\n"
        "    aliases: [TTP, TeTP]\n"
        "  - {id: kabul, name: Kabul, type: location}\n"
    )
    report = store.import_table(session=session, actor="t", table=table, mode="merge")
    assert (report.created, report.updated, report.deleted, report.aliases_added) == (1, 1, 0, 1)
    aliases = [a.text for a in store.get_entity(session=session, entity_id="ttp").aliases]
    assert aliases == ["TTP", "Pakistani Taliban", "Taliban", "TeTP"]
    assert store.list_entities(session=session).total == 5


def test_replace_makes_the_table_the_file(session: Session) -> None:
    table = parse_alias_file("entities:\n  - {id: ttp, name: TTP group, type: organization}\n")
    report = store.import_table(session=session, actor="t", table=table, mode="replace")
    # ttp is changed in place (updated); the other three are deleted.
    assert (report.created, report.updated, report.deleted) == (0, 1, 3)
    assert report.aliases_deleted == 3 + 1 + 1  # ttp's three, afghan-taliban's, tlp's
    assert store.export_table(session=session) == table
    changed = store.changes_since(session=session, revision=report.revision - 1)
    assert changed.entity_ids == {"ttp", "afghan-taliban", "tlp", "islamabad"}


def test_export_replace_export_is_identical(session: Session) -> None:
    store.add_alias(
        session=session, actor="t", entity_id="tlp", data=AliasCreate(text="Labbaik", note="n")
    )
    first = dump_alias_file(store.export_table(session=session))
    store.import_table(session=session, actor="t", table=parse_alias_file(first), mode="replace")
    assert dump_alias_file(store.export_table(session=session)) == first


def test_load_records_gives_the_engine_names_and_aliases(session: Session) -> None:
    records = {r.id: r for r in store.load_records(session=session)}
    assert records["ttp"].aliases == ("TTP", "Pakistani Taliban", "Taliban")
    assert records["islamabad"].aliases == ()
    (only,) = store.load_records(session=session, entity_ids=["tlp", "gone"])
    assert only.name == "Tehreek-e-Labbaik Pakistan"


def test_load_records_of_the_whole_table_are_those_of_their_ids_field_for_field(
    session: Session,
) -> None:
    table = parse_alias_file(
        "entities:\n"
        "  - id: us\n    name: United States\n    type: country\n"
        "    prominence: 331000000\n    description: the country\n    aliases:\n"
        "      - US\n      - {text: America, case_sensitive: true}\n"
        "      - {text: USA, case_sensitive: false}\n"
    )
    store.import_table(session=session, actor="t", table=table, mode="merge")
    whole = {r.id: r for r in store.load_records(session=session)}
    (by_id,) = store.load_records(session=session, entity_ids=["us"])
    assert whole["us"] == by_id
    assert by_id.case_rules == (("America", True), ("USA", False))
    assert [type(rule) for _, rule in whole["us"].case_rules] == [bool, bool]
    assert (whole["us"].prominence, whole["us"].description) == (331000000.0, "the country")
    assert type(whole["us"].prominence) is float


def test_prominence_is_stored_changed_and_cleared(session: Session) -> None:
    data = entity("ottawa-ca").model_copy(update={"prominence": 1017449.0})
    created = store.create_entity(session=session, actor="t", data=data)
    assert created.prominence == 1017449.0
    changed = store.update_entity(
        session=session, actor="t", entity_id="ottawa-ca", data=EntityUpdate(prominence=2.5)
    )
    assert changed.prominence == 2.5
    renamed = store.update_entity(
        session=session, actor="t", entity_id="ottawa-ca", data=EntityUpdate(name="Ottawa")
    )
    assert renamed.prominence == 2.5  # a field not sent stays
    cleared = store.update_entity(
        session=session, actor="t", entity_id="ottawa-ca", data=EntityUpdate(prominence=None)
    )
    assert cleared.prominence is None
    assert store.get_entity(session=session, entity_id="ottawa-ca").prominence is None


def test_imports_set_and_clear_prominence_and_export_gives_it_back(session: Session) -> None:
    with_prominence = parse_alias_file(
        "entities:\n"
        "  - {id: islamabad, name: Islamabad, type: location, prominence: 1014825}\n"
        "  - {id: kabul, name: Kabul, type: location, prominence: 0.5}\n"
    )
    report = store.import_table(session=session, actor="t", table=with_prominence, mode="merge")
    assert (report.created, report.updated) == (1, 1)
    records = {r.id: r.prominence for r in store.load_records(session=session)}
    assert records == {
        "ttp": None,
        "afghan-taliban": None,
        "tlp": None,
        "islamabad": 1014825.0,
        "kabul": 0.5,
    }
    exported = dump_alias_file(store.export_table(session=session))
    assert "  prominence: 1014825\n" in exported
    assert "  prominence: 0.5\n" in exported
    store.import_table(session=session, actor="t", table=parse_alias_file(exported), mode="replace")
    assert dump_alias_file(store.export_table(session=session)) == exported
    without = parse_alias_file("entities:\n  - {id: kabul, name: Kabul, type: location}\n")
    report = store.import_table(session=session, actor="t", table=without, mode="merge")
    assert report.updated == 0  # a field the file omits is not a field cleared
    assert store.get_entity(session=session, entity_id="kabul").prominence == 0.5
    cleared = parse_alias_file(
        "entities:\n  - {id: kabul, name: Kabul, type: location, prominence: null}\n"
    )
    report = store.import_table(session=session, actor="t", table=cleared, mode="merge")
    assert report.updated == 1  # a null that the file gives is
    assert store.get_entity(session=session, entity_id="kabul").prominence is None
    assert store.get_entity(session=session, entity_id="islamabad").prominence == 1014825.0


def _many_entities(count: int) -> list[dict[str, object]]:
    return [
        {"id": f"e{i}", "name": f"Entity number {i}", "type": "thing", "aliases": [f"Alias {i}"]}
        for i in range(count)
    ]


def _yaml_with_late_fault(fault: str) -> tuple[str, str]:
    entries = "".join(f"  - {json.dumps(entry)}\n" for entry in _many_entities(50))
    return "entities:\n" + entries + fault, "application/yaml"


@pytest.mark.parametrize("mode", ["merge", "replace"])
@pytest.mark.parametrize(
    ("raw", "media_type", "expected"),
    [
        (*_yaml_with_late_fault("  - {id: bad, name: '---', type: thing}\n"), "no letter"),
        (*_yaml_with_late_fault("  - {id: e3, name: Again, type: thing}\n"), "already used"),
        (*_yaml_with_late_fault("  - {id: cut, name: [\n"), "not valid YAML"),
        (json.dumps({"entities": _many_entities(50)})[:-900], "application/json", "not valid JSON"),
    ],
)
def test_an_import_that_fails_half_way_stores_nothing(
    session: Session, mode: store.ImportMode, raw: str, media_type: str, expected: str
) -> None:
    before = store.export_table(session=session)
    revision = store.current_revision(session=session)
    entries = read_alias_file(raw, media_type=media_type)
    with pytest.raises(InvalidAliasFile, match=expected):
        # Batches of 10: four or five of them are written before the fault is read.
        store.import_entities(session=session, actor="t", entries=entries, mode=mode, batch_size=10)
    assert store.export_table(session=session) == before
    assert store.current_revision(session=session) == revision
    assert session.exec(select(Entity).where(Entity.id == "e1")).first() is None


def _rows_of(session: Session, revision: int) -> set[tuple[str, str | None, bool, bool]]:
    """Each history row of a revision: action, entity, whether it has a before and an after."""
    rows = session.exec(select(Change).where(Change.revision == revision)).all()
    return {(c.action, c.entity_id, c.before is not None, c.after is not None) for c in rows}


def test_a_merge_import_records_each_entity_it_changed_under_one_revision(
    session: Session,
) -> None:
    table = parse_alias_file(
        "entities:\n"
        "  - {id: ttp, name: TTP group, type: organization}\n"
        "  - {id: tlp, name: Tehreek-e-Labbaik Pakistan, type: organization, aliases: [TLP]}\n"
        "  - {id: kabul, name: Kabul, type: location}\n"
    )
    report = store.import_table(session=session, actor="t", table=table, mode="merge")
    assert _rows_of(session, report.revision) == {
        ("import", "ttp", True, True),
        ("import", "kabul", False, True),  # tlp is as the file has it: no row
    }


def test_an_import_records_new_entities_as_they_read_back(session: Session) -> None:
    # Ids given and taken away: the next ones follow the largest ever given.
    gone = EntityCreate(id="gone", name="Gone", type="thing", aliases=[AliasCreate(text="G1")])
    store.create_entity(session=session, actor="t", data=gone)
    store.delete_entity(session=session, actor="t", entity_id="gone")
    entries = [
        EntityCreate(
            id=f"e{i}",
            name=f"Entity {i}",
            type="thing",
            prominence=i,
            aliases=[AliasCreate(text=f"E{i} {n}", note="n" if n else None) for n in range(i)],
        )
        for i in range(12)
    ]
    report = store.import_entities(
        session=session, actor="t", entries=entries, mode="merge", batch_size=5
    )
    recorded = session.exec(select(Change).where(Change.revision == report.revision)).all()
    read_back = read_states(session, [entry.id for entry in entries])
    assert {row.entity_id: row.after for row in recorded} == read_back
    assert len({alias["id"] for state in read_back.values() for alias in state["aliases"]}) == 66


def test_an_import_gives_the_connection_its_page_cache_back(engine: Engine) -> None:
    def cache_size(session: Session) -> int:
        return int(session.connection().exec_driver_sql("PRAGMA cache_size").scalar_one())

    if engine.dialect.name != "sqlite":
        pytest.skip("a SQLite setting")
    with Session(engine) as session:
        before = cache_size(session)
        during: list[int] = []

        def entries() -> Iterator[EntityCreate]:
            yield EntityCreate(id="e1", name="Entity 1", type="thing")
            during.append(cache_size(session))

        store.import_entities(session=session, actor="t", entries=entries(), mode="merge")
        assert during == [-BULK_WRITE_CACHE_KIB] != [before]
        assert cache_size(session) == before


def test_an_import_on_postgresql_plans_each_statement_for_the_tables_as_they_grow(
    engine: Engine,
) -> None:
    def plan_cache_mode(session: Session) -> str:
        return str(session.connection().exec_driver_sql("SHOW plan_cache_mode").scalar_one())

    if engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL setting")
    with Session(engine) as session:
        during: list[str] = []

        def entries() -> Iterator[EntityCreate]:
            yield EntityCreate(id="e1", name="Entity 1", type="thing")
            during.append(plan_cache_mode(session))

        store.import_entities(session=session, actor="t", entries=entries(), mode="merge")
        assert during == ["force_custom_plan"]
        assert plan_cache_mode(session) == "auto"  # the transaction's setting alone


def test_a_replace_records_each_entity_created_updated_and_deleted(session: Session) -> None:
    entries = [EntityCreate(id=f"e{i}", name=f"Entity {i}", type="thing") for i in range(25)]
    entries.append(EntityCreate(id="ttp", name="TTP group", type="organization"))
    report = store.import_entities(
        session=session, actor="t", entries=entries, mode="replace", batch_size=10
    )
    rows = _rows_of(session, report.revision)
    assert {row for row in rows if row[1] and row[1].startswith("e")} == {
        ("replace", f"e{i}", False, True) for i in range(25)
    }
    assert rows - {row for row in rows if row[1] and row[1].startswith("e")} == {
        ("replace", "ttp", True, True),
        ("replace", "afghan-taliban", True, False),
        ("replace", "tlp", True, False),
        ("replace", "islamabad", True, False),
    }
    assert (report.created, report.updated, report.deleted) == (25, 1, 3)
    assert not store.changes_since(session=session, revision=report.revision - 1).whole_table


def test_a_replace_that_changes_many_entities_has_other_processes_rebuild_their_index(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "WHOLE_TABLE_AFTER", 20)
    entries = [EntityCreate(id=f"e{i}", name=f"Entity {i}", type="thing") for i in range(25)]
    report = store.import_entities(session=session, actor="t", entries=entries, mode="replace")
    assert store.changes_since(session=session, revision=report.revision - 1).whole_table


def test_a_failed_edit_leaves_neither_history_nor_revision(session: Session) -> None:
    revision = store.current_revision(session=session)
    count = len(session.exec(select(Change)).all())
    with pytest.raises(Conflict):
        store.add_alias(session=session, actor="t", entity_id="ttp", data=AliasCreate(text="ttp"))
    with pytest.raises(NotFound):
        store.delete_entity(session=session, actor="t", entity_id="nope")
    assert store.current_revision(session=session) == revision
    assert len(session.exec(select(Change)).all()) == count


def test_an_alias_id_is_never_given_again_even_after_an_old_one_comes_back(
    session: Session,
) -> None:
    def add(text: str) -> int:
        edit = store.add_alias(
            session=session, actor="t", entity_id="tlp", data=AliasCreate(text=text)
        )
        return edit.alias.id

    newest = add("Labbaik")
    store.delete_alias(session=session, actor="t", entity_id="tlp", alias_id=newest)
    after_delete = add("Barelvi")
    assert after_delete > newest
    # As a revert puts a deleted alias back: with its own id, given explicitly.
    session.add(Alias(id=newest, entity_id="tlp", text="Labbaik", normalized="labbaik"))
    session.commit()
    assert add("Rizvi movement") > after_delete
    texts = [a.text for a in store.get_entity(session=session, entity_id="tlp").aliases]
    assert texts == ["TLP", "Labbaik", "Barelvi", "Rizvi movement"]


def test_two_editors_sending_one_etag_cannot_both_win(engine: Engine, session: Session) -> None:
    etag = etag_of(store.get_entity(session=session, entity_id="tlp"))
    session.commit()
    outcomes: list[str] = []

    def second_editor() -> None:
        with Session(engine) as other:
            try:
                store.update_entity(
                    session=other,
                    actor="second",
                    entity_id="tlp",
                    data=EntityUpdate(description="second"),
                    if_match=parse_if_match(etag),
                )
                outcomes.append("won")
            except PreconditionFailed:
                outcomes.append("stale")

    with Session(engine) as first:
        store.hold_write_lock(session=first)  # the first editor's edit is under way
        second = threading.Thread(target=second_editor)
        second.start()
        second.join(timeout=0.5)
        assert second.is_alive()  # waiting for the lock, not reading the entity before it
        store.update_entity(
            session=first,
            actor="first",
            entity_id="tlp",
            data=EntityUpdate(description="first"),
            if_match=parse_if_match(etag),
        )
    second.join(timeout=60)
    assert outcomes == ["stale"]
    assert store.get_entity(session=session, entity_id="tlp").description == "first"


def test_shared_forms_names_the_forms_of_entities_written_that_others_hold(
    session: Session,
) -> None:
    assert forms.shared_forms(session, {"ttp": {"taliban", "ttp"}, "tlp": {"tlp"}}) == [
        SharedForm(form="taliban", entity_ids=["afghan-taliban", "ttp"])
    ]
    # Uncommitted, as a dry run would leave it: the session's own writes count.
    session.add(Entity(id="x", name="Islamabad", normalized_name="islamabad", type="city"))
    assert forms.shared_forms(session, {"x": {"islamabad"}}) == [
        SharedForm(form="islamabad", entity_ids=["islamabad", "x"])
    ]
    session.rollback()


def test_a_refused_import_lists_the_first_twenty_shared_forms(session: Session) -> None:
    pairs = [
        EntityCreate(id=f"{side}{i}", name=f"{side} {i}", type="thing", aliases=[f"Form {i}"])
        for i in range(30)
        for side in ("a", "b")
    ]
    with pytest.raises(Conflict) as refused:
        store.import_entities(session=session, actor="t", entries=pairs, mode="merge")
    detail = refused.value.detail
    assert "at least 20 forms" in detail or "the first 20" in detail
    assert detail.count("' by '") == 20
    assert "'form 0' by 'a0', 'b0'" in detail
    assert store.list_entities(session=session).total == 4


def test_a_replace_of_the_same_table_keeps_everything_and_records_nothing(
    session: Session,
) -> None:
    before = store.export_table(session=session)
    ids = [a.id for e in store.list_entities(session=session).items for a in e.aliases]
    revision = store.current_revision(session=session)
    trail = len(session.exec(select(Change)).all())
    report = store.import_table(session=session, actor="t", table=before, mode="replace")
    assert (report.created, report.updated, report.deleted, report.aliases_added) == (0, 0, 0, 0)
    assert report.revision == revision == store.current_revision(session=session)
    assert len(session.exec(select(Change)).all()) == trail
    assert [a.id for e in store.list_entities(session=session).items for a in e.aliases] == ids


def test_a_replace_tells_apart_aliases_an_older_version_let_in_as_one_form(
    session: Session,
) -> None:
    # TLP and T.L.P. are one form now, but a table may hold both from before.
    session.add(Alias(entity_id="tlp", text="T.L.P.", normalized="t l p"))
    session.commit()
    # As read from a file written then (the validation today would refuse it).
    entries = [
        EntityCreate.model_construct(
            **entity.model_dump(exclude={"aliases"}),
            aliases=[
                AliasCreate.model_construct(**a.model_dump(exclude={"id"})) for a in entity.aliases
            ],
        )
        for entity in store.list_entities(session=session).items
    ]
    report = store.import_entities(
        session=session, actor="t", entries=entries, mode="replace", allow_shared=True
    )
    assert (report.updated, report.aliases_added, report.aliases_deleted) == (0, 0, 0)
    texts = [a.text for a in store.get_entity(session=session, entity_id="tlp").aliases]
    assert texts == ["TLP", "T.L.P."]


def _with_aliases(entity_id: str, count: int, prefix: str) -> EntityCreate:
    return entity(entity_id, *(f"{prefix} {i}" for i in range(count)))


def test_no_edit_leaves_an_entity_more_aliases_than_an_entity_may_have(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its export could not be imported again: adding one, merging two and an
    import's merge are each refused past the limit (10 here, for speed), and
    change nothing."""
    monkeypatch.setattr(store, "MAX_ALIASES", 10)
    store.create_entity(session=session, actor="t", data=_with_aliases("full", 10, "f"))
    with pytest.raises(Conflict, match="would have 11 aliases; an entity has at most 10"):
        store.add_alias(
            session=session, actor="t", entity_id="full", data=AliasCreate(text="one more")
        )
    store.create_entity(session=session, actor="t", data=_with_aliases("half", 6, "h"))
    store.create_entity(session=session, actor="t", data=_with_aliases("other", 4, "o"))
    revision = store.current_revision(session=session)
    with pytest.raises(Conflict, match="'other' would have 11 aliases"):
        store.merge_entity(session=session, actor="t", entity_id="half", into="other")
    more = AliasFile(entities=[_with_aliases("half", 5, "m")])
    with pytest.raises(Conflict, match="'half' would have 11 aliases"):
        store.import_table(session=session, actor="t", table=more, mode="merge")
    assert store.current_revision(session=session) == revision
    assert [
        len(store.get_entity(session=session, entity_id=e).aliases) for e in ("half", "full")
    ] == [6, 10]
    # A model made past its limit (as a review accept adds its form) is refused too.
    too_many = _with_aliases("new", 10, "n").model_copy(
        update={"aliases": [AliasCreate(text=f"n {i}") for i in range(11)]}
    )
    with pytest.raises(Conflict, match="'new' would have 11 aliases"):
        store.create_entity(session=session, actor="t", data=too_many)
    store.add_alias(session=session, actor="t", entity_id="half", data=AliasCreate(text="fits"))
