import pytest

from app.matching.casing import CaseRule, Written, case_rule


@pytest.mark.parametrize(
    ("alias", "rule"),
    [
        ("US", CaseRule.EXACT),
        ("LeT", CaseRule.EXACT),
        ("Dawn", CaseRule.CAPITALISED),
        ("Tehreek-e-Taliban Pakistan", CaseRule.CAPITALISED),
        ("as", CaseRule.LOWER_CASE),  # a gazetteer's alternate of Asse
        ("10 de mayo", CaseRule.LOWER_CASE),
        ("طالبان", CaseRule.ANY),  # a script without case
        ("10", CaseRule.NOT_IN_TEXT),  # a district's number
        ("9/11", CaseRule.NOT_IN_TEXT),
        ("March", CaseRule.NOT_IN_TEXT),  # the town, and the month
        ("Friday", CaseRule.NOT_IN_TEXT),
    ],
)
def test_the_rule_follows_from_the_alias(alias: str, rule: CaseRule) -> None:
    assert case_rule(alias) is rule


@pytest.mark.parametrize("alias", ["as", "10", "March", "Dawn", "US"])
def test_an_editor_overrides_the_rule(alias: str) -> None:
    assert case_rule(alias, case_sensitive=True) is CaseRule.EXACT
    assert case_rule(alias, case_sensitive=False) is CaseRule.ANY


def test_what_each_rule_allows() -> None:
    assert Written("As").allows(CaseRule.LOWER_CASE, "")
    assert not Written("as").allows(CaseRule.LOWER_CASE, "")
    assert not Written("10").allows(CaseRule.NOT_IN_TEXT, "")
    assert not Written("March").allows(CaseRule.NOT_IN_TEXT, "")
    assert Written("10").allows(CaseRule.EXACT, "10")
