import pickle

from app.matching.index import EntityRecord, Segment
from app.matching.spotting_keys import (
    LOWER_CASE_KEY,
    OTHER_CASE_KEY,
    AutomatonMaker,
    KeysAutomaton,
    SpottingKeys,
    form_ids,
    pack_keys,
    spotting_automaton,
)
from tests.matching.keys_told import Told

TTP = EntityRecord(
    "ttp", "Tehreek-e-Taliban Pakistan", "organization", ("TTP", "Pakistani Taliban")
)
ASSE = EntityRecord("asse", "Asse", "town", ("as",))
ASSAM = EntityRecord("assam", "Assam", "province", ("AS",))


def spotting_of(*entities: EntityRecord) -> SpottingKeys:
    return Segment(entities).spotting


def made_of(spotting: SpottingKeys) -> KeysAutomaton:
    maker = AutomatonMaker()
    maker.add(*spotting.packed_keys())
    return maker.made()


def forms_as_written(spotting: SpottingKeys, key: str, written: str) -> tuple[int, ...]:
    return form_ids(spotting.forms_written(spotting.number(key), written))


def test_keys_are_numbered_in_the_order_first_met() -> None:
    spotting = spotting_of(TTP, ASSE)
    keys = spotting.keys_by_number()
    assert keys[:3] == ["tehreek e taliban pakistan", "ttp", "pakistani taliban"]
    assert [spotting.number(key) for key in keys] == list(range(len(keys)))
    assert spotting.number("lahore") == -1


def test_a_key_shared_by_forms_finds_them_all() -> None:
    spotting = spotting_of(ASSE, ASSAM)
    assert form_ids(spotting.forms(spotting.number("as"))) == (1, 3)
    assert form_ids(spotting.forms(spotting.number("asse"))) == (0,)


def test_a_key_is_flagged_by_the_case_rules_of_its_forms() -> None:
    spotting = spotting_of(TTP, ASSE)
    assert spotting.key_flags[spotting.number("pakistani taliban")] == 0
    assert spotting.key_flags[spotting.number("ttp")] == OTHER_CASE_KEY
    assert spotting.key_flags[spotting.number("as")] == OTHER_CASE_KEY | LOWER_CASE_KEY


def test_an_acronym_is_found_only_as_it_is_written() -> None:
    spotting = spotting_of(TTP)
    assert forms_as_written(spotting, "ttp", "TTP") == (1,)
    assert forms_as_written(spotting, "ttp", "ttp") == ()
    assert forms_as_written(spotting, "ttp", "Ttp") == ()


def test_a_name_is_found_only_capitalised() -> None:
    spotting = spotting_of(TTP)
    assert forms_as_written(spotting, "pakistani taliban", "Pakistani Taliban") == (2,)
    assert forms_as_written(spotting, "pakistani taliban", "pakistani taliban") == ()


def test_keys_read_back_find_the_same_forms_and_forget_what_they_remembered() -> None:
    spotting = spotting_of(TTP, ASSE)
    assert forms_as_written(spotting, "ttp", "TTP") == (1,)
    again = pickle.loads(pickle.dumps(spotting))
    assert again._written_as == {} and spotting._written_as
    assert again.keys_by_number() == spotting.keys_by_number()
    assert forms_as_written(again, "ttp", "TTP") == (1,)


def test_an_automaton_of_keys_gives_each_its_place() -> None:
    automaton = spotting_automaton(["ttp", "as"])
    assert [number for _, number in automaton.iter_long(" the ttp as")] == [0, 1]
    assert list(automaton.iter_long(" thettp")) == []


def test_a_build_is_ready_to_search_with_its_automaton_made() -> None:
    assert "automaton" in vars(spotting_of(TTP, ASSE))


def test_a_build_for_another_process_tells_its_keys_and_makes_no_automaton() -> None:
    told = Told()
    spotting = Segment([TTP, ASSE], keys_numbered=told).spotting
    assert told.batches == [spotting.keys_by_number()] and told.done
    assert "automaton" not in vars(spotting)
    assert spotting.number("ttp") == 1  # made when first searched
    assert "automaton" in vars(spotting)


def test_an_automaton_made_of_the_same_keys_is_taken_and_one_of_other_keys_is_not() -> None:
    spotting = Segment([TTP, ASSE], keys_numbered=Told()).spotting
    made = made_of(spotting)
    spotting.make_automaton(made)
    assert spotting.automaton is made.automaton
    other = Segment([ASSAM], keys_numbered=Told()).spotting
    other.make_automaton(made)
    assert other.automaton is not made.automaton
    assert other.number("assam") == 0 and other.number("ttp") == -1


def test_keys_are_pickled_without_their_automaton() -> None:
    spotting = spotting_of(TTP, ASSE)
    assert "automaton" not in spotting.__getstate__()
    again = pickle.loads(pickle.dumps(spotting))
    assert "automaton" not in vars(again)
    assert again.keys_by_number() == spotting.keys_by_number()
    assert list(again.automaton.items()) == list(spotting.automaton.items())


def test_keys_added_batch_after_batch_make_the_automaton_of_them_all() -> None:
    spotting = spotting_of(TTP, ASSE, ASSAM)
    keys = spotting.keys_by_number()
    maker = AutomatonMaker()
    for batch in (keys[:2], [], keys[2:]):
        text, lengths = pack_keys(batch)
        maker.add(text, lengths.tobytes())
    made = maker.made()
    assert (made.key_text, made.key_lengths) == spotting.packed_keys()
    # The same keys and numbers: added in other batches, in another order.
    assert sorted(made.automaton.items()) == sorted(spotting.automaton.items())
    assert list(AutomatonMaker().made().automaton.items()) == []
