"""When a form found in running text may be taken for a mention, by its case.

Short all-capital aliases are acronyms that spell common words in lower case:
US, IS, UN, KP, and mixed-case ones too: LeT, JeM. Found in text, they count
only written as the alias is. Other aliases that have a capital letter are
proper names, which running text capitalises: "dawn" or "afghan" in lower case
is a word, not the newspaper or the country.

A form written without capitals in a script that has them (a gazetteer's
"as" for Asse, "we" for Huế) says nothing of how text writes it: it counts
only where the text's writer capitalised it, which the first word of a
sentence does not show. A form without letters (a district numbered "10")
and a month or weekday name (the town of March) are words that any text
writes: they are never mentions in running text. An editor can set an
alias's rule (``case_sensitive``): true asks for the alias's exact letters,
false for none.
"""

from enum import IntEnum

MAX_ACRONYM_LETTERS = 6
# Words English capitalises that name no place or actor by themselves.
MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
CALENDAR_WORDS = frozenset(
    [
        *MONTHS,
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
)


class CaseRule(IntEnum):
    ANY = 0  # no case asked for: an editor's choice, or a script without case
    CAPITALISED = 1  # the text must have a capital letter (a proper name)
    EXACT = 2  # the text's letters must be the alias's, case included
    LOWER_CASE = 3  # capitalised by the text's writer, not by a sentence's start
    NOT_IN_TEXT = 4  # a number or a calendar word: never found in running text


def case_rule(text: str, case_sensitive: bool | None = None) -> CaseRule:
    """The rule for an alias: the editor's if set, else from its letters."""
    if case_sensitive is not None:
        return CaseRule.EXACT if case_sensitive else CaseRule.ANY
    if not any(map(str.isalpha, text)) or text.strip().casefold() in CALENDAR_WORDS:
        return CaseRule.NOT_IN_TEXT
    capitals = sum(map(str.isupper, text))
    if capitals >= 2 and sum(map(str.isalnum, text)) <= MAX_ACRONYM_LETTERS:
        return CaseRule.EXACT
    if capitals:
        return CaseRule.CAPITALISED
    return CaseRule.LOWER_CASE if text.islower() else CaseRule.ANY


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
        """Whether this text may be a mention of an alias (its letters given) under ``rule``.

        Where a sentence begins is the spotter's to judge (``LOWER_CASE``).
        """
        if rule is CaseRule.ANY:
            return True
        if rule is CaseRule.CAPITALISED or rule is CaseRule.LOWER_CASE:
            return is_capitalised(self.text)
        if rule is CaseRule.NOT_IN_TEXT:
            return False
        if self._letters is None:
            self._letters = letters(self.text)
        return self._letters == alias_letters
