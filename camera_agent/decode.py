"""Grammar-constrained CTC decoding of the recogniser's output matrix.

The recognition network emits, for each of T time steps (columns of the crop, 8 pixels apart at
48 px height), a probability for every class of its dictionary plus the CTC blank. Greedy
decoding takes the best class at every step; when the network hesitates (a first or last
character half-lost on a gradient or in a shadow, a blank that narrowly beats a character) the
greedy string has a character too few, and no later fix can bring it back.

Here the plate grammar is imposed during decoding instead: for one plate pattern (a list of
allowed character sets, one per position) the best CTC path that emits exactly one character
from each set, in order, with blanks anywhere between them, is found by dynamic programming
(Viterbi over the CTC alignment). Every result is therefore a plate of that pattern; which
pattern wins is decided by the path's log-probability, so a seven- and an eight-character
reading of the same matrix are compared on the same footing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NEG = -1e30


@dataclass
class Path:
    """The best path of one pattern: log-probability, class per position, and the time steps
    (first, last) at which each character is emitted."""

    score: float
    classes: list[int]
    spans: list[tuple[int, int]]


class Pattern:
    """A plate pattern prepared for decoding: class indices per position, padded to one width."""

    def __init__(self, name: str, sets: list[np.ndarray]) -> None:
        self.name = name
        self.length = len(sets)
        width = max(len(s) for s in sets)
        self.ids = np.full((self.length, width), -1, np.int64)
        for k, s in enumerate(sets):
            self.ids[k, : len(s)] = s
        self.valid = self.ids >= 0
        self.safe_ids = np.where(self.valid, self.ids, 0)


def score_bound(logp: np.ndarray, blank_logp: np.ndarray, pattern: Pattern) -> float:
    """An upper bound of `constrained_path(...).score`, far cheaper than the path itself.

    A path's score is a sum over time steps of either the blank's or one pattern class's
    log-probability. Each step is therefore at most `base` (the best of the blank and every
    class the pattern allows anywhere), and at least one step emits a class of each
    position's set: a position whose classes the network never saw (the 警 of a police
    plate on an ordinary plate's matrix) costs its shortfall against `base` at its best step.
    The decoder skips a pattern whose bound cannot beat the best reading found so far."""
    if logp.shape[0] < pattern.length:
        return NEG
    emit = np.where(pattern.valid[None], logp[:, pattern.safe_ids], NEG).max(axis=2)  # (T, L)
    base = np.maximum(blank_logp, emit.max(axis=1))  # (T,)
    shortfall = (emit - base[:, None]).max(axis=0)  # (L,): best step of each position
    return float(base.sum() + shortfall.min())


def constrained_path(logp: np.ndarray, blank_logp: np.ndarray, pattern: Pattern) -> Path | None:
    """The most probable CTC path emitting exactly one class of each position's set, in order.

    logp: (T, classes) log-probabilities; blank_logp: (T,) log-probability of "no character"
    at each step (the blank, plus anything the caller counts as one, e.g. a separator dot).
    Two equal characters in a row need a blank between them (CTC's rule); a character may last
    several steps. Returns None when T is too short for the pattern.
    """
    steps = logp.shape[0]
    length = pattern.length
    if steps < length:
        return None
    emit = np.where(pattern.valid[None], logp[:, pattern.safe_ids], NEG)  # (T, L, M)
    ids = pattern.ids
    rows = np.arange(length)

    blank = np.full(length + 1, NEG)  # blank[k]: k characters emitted, now in a blank
    char = np.full(ids.shape, NEG)  # char[k, c]: now emitting class c as character k
    blank[0] = blank_logp[0]
    char[0] = emit[0, 0]
    # back-pointers, per step: for char states 0 = stay, 1 = from blank[k], 2 = from a
    # different class of character k-1 (which one in char_from); for blank states 0 = stay,
    # 1 = from the best class of character k-1 (which one in blank_from)
    char_how = np.zeros((steps, *ids.shape), np.int8)
    char_from = np.zeros((steps, *ids.shape), np.int64)
    blank_how = np.zeros((steps, length + 1), np.int8)
    blank_from = np.zeros((steps, length + 1), np.int64)

    for t in range(1, steps):
        best_arg = char.argmax(axis=1)  # (L,)
        best = char[rows, best_arg]
        masked = char.copy()
        masked[rows, best_arg] = NEG
        second_arg = masked.argmax(axis=1)
        second = masked[rows, second_arg]

        new_blank = blank.copy()
        new_blank_how = np.zeros(length + 1, np.int8)
        from_char = best > blank[1:]
        new_blank[1:] = np.where(from_char, best, blank[1:])
        new_blank_how[1:] = from_char
        blank_from[t, 1:] = best_arg
        blank_how[t] = new_blank_how
        new_blank += blank_logp[t]

        # entering character k: from blank[k], or straight from character k-1 when the class
        # differs (equal neighbours must be separated by a blank)
        enter = np.full(ids.shape, NEG)
        enter_how = np.ones(ids.shape, np.int8)
        enter_from = np.zeros(ids.shape, np.int64)
        enter[:] = blank[:length, None]
        if length > 1:
            prev_best_id = ids[rows[:-1], best_arg[:-1]]  # (L-1,)
            same = ids[1:] == prev_best_id[:, None]
            other = np.where(same, second[:-1, None], best[:-1, None])
            other_arg = np.where(same, second_arg[:-1, None], best_arg[:-1, None])
            take = other > enter[1:]
            enter[1:] = np.where(take, other, enter[1:])
            enter_how[1:] = np.where(take, 2, 1)
            enter_from[1:] = other_arg
        stay = char >= enter
        char = np.where(stay, char, enter) + emit[t]
        char = np.where(pattern.valid, char, NEG)
        char_how[t] = np.where(stay, 0, enter_how)
        char_from[t] = enter_from
        blank = new_blank

    last_arg = int(char[length - 1].argmax())
    end_in_char = char[length - 1, last_arg] > blank[length]
    score = float(char[length - 1, last_arg] if end_in_char else blank[length])
    if score <= NEG / 2:
        return None

    classes = [0] * length
    spans = [(0, 0)] * length
    state = ("c", length - 1, last_arg) if end_in_char else ("b", length, 0)
    for t in range(steps - 1, -1, -1):
        if state[0] == "c":
            _, k, c = state
            first, last = spans[k] if classes[k] else (t, t)
            classes[k] = int(ids[k, c])
            spans[k] = (t, last)
            how = char_how[t, k, c]
            if how == 1:
                state = ("b", k, 0)
            elif how == 2:
                state = ("c", k - 1, int(char_from[t, k, c]))
        else:
            _, k, _ = state
            if blank_how[t, k] == 1:
                state = ("c", k - 1, int(blank_from[t, k]))
    return Path(score, classes, spans)
