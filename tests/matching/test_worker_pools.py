import signal

import pytest

from app.matching.worker_pools import stop_signals_held


def test_a_stop_signal_is_acted_on_once_the_block_is_over() -> None:
    reached = []
    with pytest.raises(KeyboardInterrupt), stop_signals_held():
        signal.raise_signal(signal.SIGINT)
        reached.append("the rest of the block")
    assert reached == ["the rest of the block"]


def test_the_handlers_there_were_are_put_back() -> None:
    before = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    with stop_signals_held():
        assert signal.getsignal(signal.SIGINT) is not before[signal.SIGINT]
    assert {signum: signal.getsignal(signum) for signum in before} == before


def test_a_stop_signal_while_the_block_fails_is_still_acted_on() -> None:
    with pytest.raises(KeyboardInterrupt) as stopped, stop_signals_held():
        signal.raise_signal(signal.SIGINT)
        raise OSError(12, "Cannot allocate memory")
    assert isinstance(stopped.value.__context__, OSError)


def test_a_block_with_no_signal_ends_as_it_would_have() -> None:
    with stop_signals_held():
        result = "done"
    assert result == "done"
