"""Progress bars for long commands: on a terminal, never in a log or a pipe.

A command that reads or writes large files takes ``add_options`` (``--progress``,
``--quiet``) and counts its work on a ``progress_bar``.
"""

import argparse
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def add_options(parser: argparse.ArgumentParser) -> None:
    """``--progress`` and ``--quiet``; without either, bars show on a terminal only."""
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument(
        "--progress",
        dest="progress",
        action="store_const",
        const=True,
        default=None,
        help="show progress bars even when standard error is not a terminal",
    )
    choice.add_argument(
        "--quiet",
        dest="progress",
        action="store_const",
        const=False,
        help="show no progress bars and no informational log lines",
    )


@contextmanager
def progress_bar(
    *,
    description: str,
    unit: str,
    shown: bool | None,
    total: float | None = None,
    unit_scale: bool = False,
) -> Iterator[tqdm]:
    """A bar on standard error counting ``unit``s (of ``total`` when known);
    ``shown`` None leaves it to tqdm, which shows it on a terminal only.

    A bar that an error stops is wiped, so that the error is the line left.
    """
    bar = tqdm(
        desc=description,
        total=total,
        unit=f" {unit}" if not unit_scale else unit,
        unit_scale=unit_scale,
        dynamic_ncols=True,
        file=sys.stderr,
        disable=None if shown is None else not shown,
    )
    try:
        yield bar
    except BaseException:
        bar.leave = False
        raise
    finally:
        bar.close()


def counted(items: Iterable[T], bar: tqdm) -> Iterator[T]:
    """``items`` as they are, each counted on ``bar`` once it has been used."""
    for item in items:
        yield item
        bar.update()
