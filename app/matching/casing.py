"""When a form found in running text may be taken for a mention, by its case.

Short all-capital aliases are acronyms that spell common words in lower case:
US, IS, UN, KP, and mixed-case ones too: LeT, JeM. Found in text, they count
only written as the alias is. Other aliases that have a capital letter are
proper names, which running text capitalises: "dawn" or "afghan" in lower case
is a word, not the newspaper or the country. An editor can set an alias's rule
(``case_sensitive``): true asks for the alias's exact letters, false for none.
"""

from enum import IntEnum

MAX_ACRONYM_LETTERS = 6


class CaseRule(IntEnum):
    ANY = 0  # no case asked for
    CAPITALISED = 1  # the text must have a capital letter (a proper name)
    EXACT = 2  # the text's letters must be the alias's, case included


def case_rule(text: str, case_sensitive: bool | None = None) -> CaseRule:
    """The rule for an alias: the editor's if set, else from its letters."""
    if case_sensitive is not None:
        return CaseRule.EXACT if case_sensitive else CaseRule.ANY
    capitals = sum(map(str.isupper, text))
    if capitals >= 2 and sum(map(str.isalnum, text)) <= MAX_ACRONYM_LETTERS:
        return CaseRule.EXACT
    return CaseRule.CAPITALISED if capitals else CaseRule.ANY


def letters(text: str) -> str:
    return "".join(c for c in text if c.isalnum())


def is_capitalised(text: str) -> bool:
    """Whether ``text`` has a capital letter, or no lower-case one (uncased scripts, all caps)."""
    return not text.islower()


class Written:
    """A stretch of text, asked about its case once for all the forms it may be."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._letters: str | None = None

    def allows(self, rule: CaseRule, alias_letters: str) -> bool:
        """Whether this text may be a mention of an alias (its letters given) under ``rule``."""
        if rule is CaseRule.ANY:
            return True
        if rule is CaseRule.CAPITALISED:
            return is_capitalised(self.text)
        if self._letters is None:
            self._letters = letters(self.text)
        return self._letters == alias_letters
