"""A listener to a build's spotting keys, for the tests of builds for another process."""


class Told:
    """A ``KeysListener`` that keeps what it is told."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.done = False

    def numbered(self, keys: list[str]) -> None:
        assert not self.done
        self.batches.append(keys)

    def all_numbered(self) -> None:
        self.done = True
