"""Prerequisite chains: finding the path a new prerequisite would close into a cycle, and saying
it as people read it. Shared by the services and the catalogue import (which checks a file's
prerequisites by code before any course exists), and by placements' subject tree, whose
parent links are chains of the same kind."""

from collections import deque
from collections.abc import Hashable, Iterable
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def prerequisite_path(edges: Iterable[tuple[K, K]], *, start: K, goal: K) -> list[K] | None:
    """The shortest chain start → … → goal along `edges` (course, the course it requires), or
    None. Adding "goal requires start" would close that chain into a cycle."""
    requires: dict[K, list[K]] = {}
    for course, prerequisite in edges:
        requires.setdefault(course, []).append(prerequisite)
    came_from: dict[K, K | None] = {start: None}
    queue = deque([start])
    while queue:
        current = queue.popleft()
        if current == goal:
            path = [current]
            while (previous := came_from[path[-1]]) is not None:
                path.append(previous)
            return path[::-1]
        for prerequisite in requires.get(current, []):
            if prerequisite not in came_from:
                came_from[prerequisite] = current
                queue.append(prerequisite)
    return None


def cycle_message(codes: list[str], *, relation: str = "requires") -> str:
    """ "C1 requires C2, which requires C3, which requires C1": the cycle a new link would
    close, as people read it. `relation` names the link for other chains (placement subjects:
    "is within")."""
    words = [f"{codes[0]} {relation} {codes[1]}"]
    words += [f"which {relation} {code}" for code in codes[2:]]
    return f"That would make a cycle: {', '.join(words)}."
