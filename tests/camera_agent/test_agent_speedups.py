"""The reader's shortcuts (session 4) give the results of the slow ways they replace."""

import numpy as np

from camera_agent import locate
from camera_agent.decode import Pattern, constrained_path, score_bound
from camera_agent.reader import COLOURLESS_SPREAD, is_colourless


def test_score_bound_is_never_below_the_best_path():
    rng = np.random.default_rng(11)
    for _ in range(200):
        steps, classes, length = int(rng.integers(3, 12)), 6, int(rng.integers(1, 5))
        probs = rng.dirichlet(np.ones(classes + 1) * 0.3, size=steps)
        logp, blank = np.log(probs[:, :classes]), np.log(probs[:, classes])
        sets = [
            np.sort(rng.choice(classes, size=int(rng.integers(1, 4)), replace=False))
            for _ in range(length)
        ]
        pattern = Pattern("p", sets)
        path = constrained_path(logp, blank, pattern)
        bound = score_bound(logp, blank, pattern)
        if path is not None:
            assert path.score <= bound + 1e-9
        if steps < length:
            assert bound <= -1e29


def test_score_bound_rules_out_a_class_the_network_never_saw():
    # class 2 (a police plate's 警, say) has almost no probability anywhere: the pattern
    # needing it is bounded far below a pattern of the classes that are there
    spelled = [0, 0, None, 1, None, 0]  # the network sees 0, 1, 0 with blanks between
    steps = len(spelled)
    probs = np.full((steps, 4), 1e-6)
    for t, cls in enumerate(spelled):
        probs[t, 3 if cls is None else cls] = 0.9
        probs[t, 3 if cls is not None else 0] = 0.1
    logp, blank = np.log(probs[:, :3]), np.log(probs[:, 3])
    plain = Pattern("plain", [np.array([0, 1])] * 3)
    rare = Pattern("rare", [np.array([0, 1])] * 2 + [np.array([2])])
    best = constrained_path(logp, blank, plain).score
    assert score_bound(logp, blank, rare) < best - 5
    assert constrained_path(logp, blank, rare).score <= score_bound(logp, blank, rare)


def slow_links(blobs: np.ndarray) -> list[tuple[int, int]]:
    """The blob pairs `_rows_of` linked with the plain double loop it replaced."""
    blobs = blobs[np.argsort(blobs[:, 0])]
    x, y, w, h = (blobs[:, i].astype(np.float32) for i in range(4))
    cy, right = y + h / 2, x + w
    links = []
    for i in range(len(blobs)):
        for j in range(i + 1, len(blobs)):
            gap = x[j] - right[i]
            if gap > 1.4 * h[i]:
                break
            if (
                gap >= -0.2 * h[i]
                and abs(cy[j] - cy[i]) < 0.25 * max(h[i], h[j])
                and 0.7 <= h[j] / h[i] <= 1.43
            ):
                links.append((i, j))
    return links


def test_rows_of_links_the_pairs_the_double_loop_linked(monkeypatch):
    rng = np.random.default_rng(5)
    for _ in range(30):
        blobs = []
        for _row in range(int(rng.integers(1, 4))):  # plates' rows of 7 characters
            x0, y0 = int(rng.integers(0, 400)), int(rng.integers(0, 300))
            ch = int(rng.integers(10, 30))
            for k in range(7):
                bw = int(ch * 0.6)
                blobs.append([x0 + k * (bw + 3), y0 + int(rng.integers(-1, 2)), bw, ch, bw * ch])
        for _noise in range(int(rng.integers(0, 300))):  # clutter
            bw, bh = int(rng.integers(3, 40)), int(rng.integers(7, 50))
            blobs.append([int(rng.integers(0, 600)), int(rng.integers(0, 400)), bw, bh, bw * bh])
        blobs = np.array(blobs, np.int32)
        expected = slow_links(blobs)
        seen = []
        real_zip = zip

        def recording_zip(*args, seen=seen, real_zip=real_zip, **kwargs):
            pairs = list(real_zip(*args, **kwargs))
            seen.extend(pairs)
            return iter(pairs)

        # the pairs `_rows_of` links pass through its one `zip` (a module global shadows it)
        monkeypatch.setattr(locate, "zip", recording_zip, raising=False)
        rows = locate._rows_of(blobs)
        monkeypatch.undo()
        assert sorted(seen) == sorted(expected)
        assert len(rows) >= 1  # the plates' rows are found


def test_colourless_decision_agrees_with_the_percentile():
    rng = np.random.default_rng(9)
    for n_coloured in [0, 10, 30, 50, 60, 80, 200, 2000]:
        grey = rng.integers(0, 256, (120, 160), dtype=np.uint8)
        image = np.dstack([grey, grey, grey]).copy()
        flat = image.reshape(-1, 3)
        idx = rng.choice(len(flat), n_coloured, replace=False)
        flat[idx, 0] = np.clip(flat[idx, 0].astype(int) + 40, 0, 255) - 0
        flat[idx, 2] = np.clip(flat[idx, 2].astype(int) - 40, 0, 255)
        small = image.astype(np.int16)
        spread = small.max(axis=2) - small.min(axis=2)
        expected = bool(np.percentile(spread, 99) <= COLOURLESS_SPREAD)
        assert is_colourless(image) == expected, n_coloured
