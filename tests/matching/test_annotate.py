import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.matching.annotate import Mention, annotate, dictionary_mentions
from app.matching.annotation.common_words import (
    MAX_WORDS_LOOKED_FOR,
    lower_case_occurrence,
    written_in_lower_case,
)
from app.matching.index import AliasIndex, EntityRecord
from app.matching.resolve import Status, Thresholds, resolve
from app.matching.spotting import prepare

INDEX = AliasIndex.build(
    [
        EntityRecord(
            "ttp", "Tehreek-e-Taliban Pakistan", "organization", ("TTP", "Pakistani Taliban")
        ),
        EntityRecord(
            "iskp", "Islamic State – Khorasan Province", "organization", ("Daesh-Khorasan", "IS-K")
        ),
        EntityRecord("islamic-state", "Islamic State", "organization", ("Daesh", "IS")),
        EntityRecord("us", "United States", "country", ("US",)),
        EntityRecord("us-state", "US State Department", "government-body", ("State Department",)),
        EntityRecord("pakistan", "Pakistan", "country", ("Pakistani",)),
        EntityRecord("dialogue", "Pakistan-US Counterterrorism Dialogue", "event"),
        EntityRecord("un", "United Nations", "organization", ("UN",)),
        EntityRecord(
            "pk-mofa",
            "Ministry of Foreign Affairs of Pakistan",
            "government-body",
            ("Ministry of Foreign Affairs", "Foreign Office"),
        ),
        EntityRecord(
            "af-mofa",
            "Ministry of Foreign Affairs of Afghanistan",
            "government-body",
            ("Ministry of Foreign Affairs",),
        ),
        EntityRecord("asif", "Khawaja Asif", "person"),
        EntityRecord("dawn", "Dawn", "media"),
        EntityRecord("let", "Lashkar-e-Taiba", "organization", ("LeT",)),
    ]
)


def found(text: str, **options: object) -> list[tuple[str, str | None, str]]:
    mentions = annotate(INDEX, text, **options)  # type: ignore[arg-type]
    for mention in mentions:
        assert text[mention.span.start : mention.span.end] == mention.text
    return [(m.text, _entity(m), m.resolution.status.value) for m in mentions]


def _entity(mention: Mention) -> str | None:
    return mention.resolution.entity.id if mention.resolution.entity else None


def test_leftmost_longest_whole_names() -> None:
    assert found("the US State Department and the Pakistan-US Counterterrorism Dialogue") == [
        ("US State Department", "us-state", "matched"),
        ("Pakistan-US Counterterrorism Dialogue", "dialogue", "matched"),
    ]


def test_the_dictionary_takes_whole_words_only() -> None:
    assert dictionary_mentions(INDEX, "Pakistanis and unPakistani DaeshKhorasan") == []


def test_variants_find_what_whole_words_miss_and_say_how() -> None:
    text = "Pakistanis and unPakistani DaeshKhorasan, the Pakistaani Talibaan, Khwaja Asif"
    assert [(m.text, m.method) for m in annotate(INDEX, text)] == [
        ("DaeshKhorasan", "structural"),
        ("Pakistaani Talibaan", "transliteration"),
        ("Khwaja Asif", "phonetic"),
    ]


def test_a_single_word_is_never_found_by_sound_or_fuzzily() -> None:
    # /resolve takes "Pakistanis" for Pakistan (fuzzy, 0.93): a query is a
    # name, but a capitalised word of running text need not be.
    assert resolve(INDEX, "Pakistanis").status is Status.MATCHED
    assert found("the Pakistanis said") == []


def test_a_sentence_initial_word_is_found_by_no_variant() -> None:
    assert found("the Pakistaani said") == [("Pakistaani", "pakistan", "matched")]
    for text in ("Pakistaani police said", "It was. Pakistaani police said", "“Pakistaani"):
        assert found(text) == []


def test_by_sound_or_fuzzily_running_text_asks_more_than_resolve() -> None:
    loose = Thresholds(match=0.8)
    fuzzy = resolve(INDEX, "Islamic Stat Khorasan", thresholds=loose)
    assert fuzzy.status is Status.MATCHED and fuzzy.score < 0.9
    assert found("fighters of the Islamic Stat Khorasan said", thresholds=loose) == []


GAZETTEER = AliasIndex.build(
    [
        *INDEX.entities(),
        # What GeoNames lists: lower-case alternates, district numbers, a
        # town named like a month, names alike common words by sound.
        EntityRecord("asse", "Asse", "city", ("as", "we")),
        EntityRecord("district-10", "Sörnäinen", "city", ("10", "10th district")),
        EntityRecord("march", "March", "city"),
        EntityRecord("erding", "Erding", "city", ("Arrdeng",)),
        EntityRecord("tartus", "Ţarţūs", "city", ("taritusi",)),
        EntityRecord("dessie", "Dessie", "city", ("tes'si",)),
        EntityRecord("buta", "Buta", "city", ("But",)),
        EntityRecord("stuart", "Stuart", "city", ("स्टुआर्ट",)),
    ]
)


@pytest.mark.parametrize(
    "text",
    [
        "As per the statement, we met as planned.",
        "“We will fight,” he said. We left on 10 March.",
        "According to the statement, Threats grew. “These are commitments.”",
        "But the talks failed, but not for long.",  # the text writes "but" in lower case
        "You click Start to begin.",  # one word, through another script
    ],
)
def test_common_words_are_not_taken_for_places_of_a_gazetteer(text: str) -> None:
    assert [m.text for m in annotate(GAZETTEER, text)] == []


def test_a_lower_case_form_is_found_where_its_writer_capitalised_it() -> None:
    assert [m.text for m in annotate(GAZETTEER, "the town of As, near Brussels")] == ["As"]


@pytest.mark.parametrize(
    "text",
    [
        "it is what it is, and let us go",
        "un-Islamic acts, the dawn of a day",
        "Let us go. Us and them. Is it? Un-",
        "the pakistani taliban in lower case",
    ],
)
def test_short_aliases_and_names_need_their_case(text: str) -> None:
    assert found(text) == []


def test_acronyms_in_their_case_are_mentions() -> None:
    assert [m[1] for m in found("IS and the US and the UN and LeT, said Dawn.")] == [
        "islamic-state",
        "us",
        "un",
        "let",
        "dawn",
    ]


@pytest.mark.parametrize(
    ("before", "mention"),
    [
        ("😀🇵🇰 ", "Tehreek-e-Taliban Pakistan"),  # astral characters shift UTF-16 offsets, not ours
        ("\u00a0\u00a0", "Tehreek\u2011e\u2011Taliban\u00a0Pakistan"),  # NBSP, non-breaking hyphens
        ("א ב ג \u200f", "Tehreek-e-Taliban Pakistan"),  # right-to-left text and mark
        ("e\u0301te\u0301 ", "Tehre\u0301ek-e-Taliban Pakistan"),  # combining accents
        ("𝐀𝐁 ﬁ ß ", "TEHREEK-E-TALIBAN PAKISTAN"),  # expanding folds before it
    ],
)
def test_offsets_are_code_points_of_the_text_as_sent(before: str, mention: str) -> None:
    text = f"{before}{mention}’s leaders met."
    (only,) = annotate(INDEX, text)
    assert (only.span.start, only.span.end) == (len(before), len(before) + len(mention))
    assert only.resolution.entity is not None and only.resolution.entity.id == "ttp"


def test_a_possessive_is_left_out_of_the_span() -> None:
    assert found("Pakistan’s and Pakistan's") == [
        ("Pakistan", "pakistan", "matched"),
        ("Pakistan", "pakistan", "matched"),
    ]


def test_a_bare_name_follows_its_branch_named_in_the_text() -> None:
    text = "Daesh struck first. Daesh-Khorasan claimed it; Daesh has sanctuaries."
    assert [(t, e) for t, e, _ in found(text)] == [
        ("Daesh", "iskp"),
        ("Daesh-Khorasan", "iskp"),
        ("Daesh", "iskp"),
    ]


def test_without_evidence_a_bare_name_keeps_its_own_reading() -> None:
    assert [e for _, e, _ in found("Daesh struck. The Islamic State denied it.")] == [
        "islamic-state",
        "islamic-state",
    ]


def test_an_ambiguous_mention_takes_the_candidate_the_text_names() -> None:
    text = "The Foreign Office said so. The Ministry of Foreign Affairs added more."
    assert found(text)[1] == ("Ministry of Foreign Affairs", "pk-mofa", "matched")


def test_without_evidence_an_ambiguous_mention_stays_ambiguous() -> None:
    (mention,) = annotate(INDEX, "The Ministry of Foreign Affairs said so.")
    assert mention.resolution.status is Status.AMBIGUOUS
    assert {c.entity.id for c in mention.resolution.candidates} == {"pk-mofa", "af-mofa"}


def test_a_surname_alone_is_the_person_the_text_named() -> None:
    text = "Defence Minister Khawaja Asif spoke. Mr Asif said more. Asif left."
    assert [(t, e) for t, e, _ in found(text)] == [
        ("Khawaja Asif", "asif"),
        ("Asif", "asif"),
        ("Asif", "asif"),
    ]
    assert found("Mr Asif said so.") == []  # nobody named in full


def test_variants_replace_the_pieces_the_dictionary_saw_in_them() -> None:
    assert found("The Tahreek-e-Taliban Pakistan and Pakistan.") == [
        ("Tahreek-e-Taliban Pakistan", "ttp", "matched"),
        ("Pakistan", "pakistan", "matched"),
    ]


def test_the_types_filter() -> None:
    text = "The TTP and Pakistan and the US."
    assert [e for _, e, _ in found(text, types=["country"])] == ["pakistan", "us"]
    assert found(text, types=["nothing"]) == []


@pytest.mark.parametrize(
    "text", ["", "   ", "\x00\x01\x02", "x" * 100_000, "Pakistan" * 10_000, "😀" * 1000]
)
def test_odd_texts_give_an_answer(text: str) -> None:
    assert isinstance(annotate(INDEX, text), list)


def test_a_match_inside_a_word_cannot_hide_a_name() -> None:
    # "e l" spans the end of "the" and the start of "Lahore": were matches
    # allowed to begin inside words, it would hide the city.
    index = AliasIndex.build(
        [EntityRecord("el", "E L", "place"), EntityRecord("lahore", "Lahore", "city")]
    )
    mentions = dictionary_mentions(index, "the Lahore office, and E L itself")
    assert [(m.text, m.resolution.entity and m.resolution.entity.id) for m in mentions] == [
        ("Lahore", "lahore"),
        ("E L", "el"),
    ]


def test_words_in_lower_case_are_found_alike_one_by_one_and_all_at_once() -> None:
    words = [f"word{i}" for i in range(MAX_WORDS_LOOKED_FOR + 4)]
    # Every word begins a sentence; one in three is also written in lower case.
    text = " ".join(
        f"{w.title()}. {w if i % 3 == 0 else w.upper()} {w.title()}’s" for i, w in enumerate(words)
    )
    spotted = prepare(text)
    expected = {w for i, w in enumerate(words) if i % 3 == 0}
    assert written_in_lower_case(spotted, set(words)) == expected  # all at once
    assert {w for w in words if lower_case_occurrence(spotted, w)} == expected  # one by one


# Texts that name the index's entities among arbitrary characters: combining
# marks, ligatures and letters whose case or NFKC form changes their length.
_PIECES = st.sampled_from(
    ["TTP", "Pakistan", "IS", "IS-K", "Daesh-Khorasan", "US", "U.S.", "Khawaja Asif", "LeT",
     "Ministry of Foreign Affairs", " ", ", ", "'s", "’", "-", "\u0301", "ﬁ", "İ", "ß", "ǅ",
     "\n", "(", ")", "\ufdfa", "\u200b"]
)  # fmt: skip
_TEXTS = st.lists(st.one_of(_PIECES, st.text(max_size=6)), max_size=40).map("".join)


@settings(max_examples=1000, derandomize=True)
@given(_TEXTS)
def test_mentions_in_any_text_are_its_slices_in_order(text: str) -> None:
    end = 0
    for mention in annotate(INDEX, text):
        assert text[mention.span.start : mention.span.end] == mention.text
        assert end <= mention.span.start < mention.span.end
        end = mention.span.end
