"""Periodic jobs the worker runs. Each app registers its own in AppConfig.ready(), so the worker (core)
imports no app above it; the outbox is core's own and always runs last in a round."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Job:
    name: str  # Chinese: what the log says
    run: Callable[[], str | None]  # does one round; returns a line worth printing, or None
    sweep: bool = False  # True: every --sweep-every seconds; False: every round


JOBS: dict[str, Job] = {}


def register(name: str, run: Callable[[], str | None], *, sweep: bool = False) -> None:
    """Register (or replace, by name) a periodic job."""
    JOBS[name] = Job(name=name, run=run, sweep=sweep)


def registered(*, sweep: bool) -> list[Job]:
    return [job for job in JOBS.values() if job.sweep == sweep]
