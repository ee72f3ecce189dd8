import pytest

from app.errors import DomainError
from app.etags import etag_of, parse_if_match
from app.models.api import AliasPublic, EntityPublic

TTP = EntityPublic(
    id="ttp",
    name="Tehreek-e-Taliban Pakistan",
    type="organization",
    aliases=[AliasPublic(id=1, text="TTP")],
)


def test_an_etag_is_a_strong_quoted_tag_that_any_change_alters() -> None:
    etag = etag_of(TTP)
    assert etag.startswith('"') and etag.endswith('"')
    assert etag_of(TTP.model_copy()) == etag
    changed = [
        TTP.model_copy(update={"description": "Umbrella group."}),
        TTP.model_copy(update={"aliases": [AliasPublic(id=1, text="TTP", note="n")]}),
        TTP.model_copy(update={"aliases": [AliasPublic(id=2, text="TTP")]}),
        TTP.model_copy(update={"aliases": []}),
    ]
    assert len({etag, *map(etag_of, changed)}) == 5


def test_if_match_reads_a_star_one_tag_or_a_list() -> None:
    etag = etag_of(TTP)
    assert parse_if_match("*").matches(etag)
    assert parse_if_match(etag).matches(etag)
    assert parse_if_match(f'"other" , {etag}').matches(etag)
    assert not parse_if_match('"other"').matches(etag)


def test_a_weak_tag_never_matches() -> None:
    etag = etag_of(TTP)
    assert not parse_if_match(f"W/{etag}").matches(etag)


@pytest.mark.parametrize(
    "header", ["", "abc", "W/abc", '"a" "b"', '"a",', '"a"b"', "**", '*, "a"', '"a b"']
)
def test_what_is_no_entity_tag_is_refused(header: str) -> None:
    with pytest.raises(DomainError, match="If-Match must be") as raised:
        parse_if_match(header)
    assert raised.value.status_code == 400
