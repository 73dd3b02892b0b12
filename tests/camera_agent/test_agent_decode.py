import itertools

import numpy as np
import pytest

from camera_agent import plates
from camera_agent.decode import Pattern, constrained_path
from camera_agent.recognise import greedy_choices, plate_background


def brute_force(logp, blank, sets):
    """Best path by trying every alignment (tiny sizes only): CTC collapse, then the sets."""
    steps, classes = logp.shape
    best, arg = -np.inf, None
    for seq in itertools.product(range(classes + 1), repeat=steps):  # `classes` is the blank
        out, prev = [], None
        for s in seq:
            if s != classes and s != prev:
                out.append(s)
            prev = s
        if len(out) != len(sets) or any(o not in s for o, s in zip(out, sets, strict=True)):
            continue
        score = sum(blank[t] if s == classes else logp[t, s] for t, s in enumerate(seq))
        if score > best:
            best, arg = score, out
    return best, arg


def test_constrained_path_is_the_best_alignment():
    rng = np.random.default_rng(3)
    for _ in range(60):
        steps, classes, length = int(rng.integers(2, 6)), 3, int(rng.integers(1, 4))
        probs = rng.dirichlet(np.ones(classes + 1), size=steps)
        logp, blank = np.log(probs[:, :classes]), np.log(probs[:, classes])
        sets = [
            np.sort(rng.choice(classes, size=int(rng.integers(1, classes + 1)), replace=False))
            for _ in range(length)
        ]
        expected, classes_expected = brute_force(logp, blank, sets)
        path = constrained_path(logp, blank, Pattern("p", sets))
        if classes_expected is None:
            assert path is None
            continue
        assert path.score == pytest.approx(expected)
        assert path.classes == classes_expected


def test_equal_neighbours_need_a_blank_between_them():
    # two steps that both say "1" strongly: without a blank between them they are one "1"
    logp = np.log(np.array([[0.9, 0.1], [0.9, 0.1]]))
    blank = np.log(np.array([0.01, 0.01]))
    one = np.array([0])
    assert constrained_path(logp, blank, Pattern("11", [one, one])) is None
    logp3 = np.log(np.array([[0.9, 0.1], [0.01, 0.01], [0.9, 0.1]]))
    blank3 = np.log(np.array([0.01, 0.98, 0.01]))
    path = constrained_path(logp3, blank3, Pattern("11", [one, one]))
    assert path.classes == [0, 0] and path.spans == [(0, 0), (2, 2)]


def random_matrix(rng, steps, classes, peaky):
    logits = rng.normal(size=(steps, classes)) * peaky
    logits[:, 0] += rng.normal() * 3  # the blank
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (probs / probs.sum(axis=1, keepdims=True)).astype(np.float32)


def test_decoding_never_yields_a_grammar_violating_plate(reader):
    rec = reader.recogniser
    rng = np.random.default_rng(11)
    classes = len(rec.charset)
    seen = 0
    for i in range(40):
        probs = random_matrix(rng, int(rng.integers(8, 40)), classes, peaky=1 + i % 5)
        # give plate characters a chance to win a few steps, as on a real crop
        for t in rng.choice(len(probs), size=min(8, len(probs)), replace=False):
            probs[t, rng.integers(1, classes)] += rng.random() * 5
        probs /= probs.sum(axis=1, keepdims=True)
        for colour in (None, "blue", "green", "white"):
            reading = rec.decode_plate(probs, colour)
            if reading is None:
                continue
            seen += 1
            assert plates.is_plate(reading.text), reading.text
            assert 0 <= reading.confidence <= 1
    assert seen > 0


def plate_matrix(rec, text, weak_at=(), weak=0.3, q_as_zero=False):
    """A clean output matrix spelling `text`: each character for two steps between blanks,
    with the characters at `weak_at` losing to the blank (as the network drops them)."""
    classes = len(rec.charset)
    rows = []
    for k, ch in enumerate(text):
        for _ in range(2):
            row = np.full(classes, 1e-6, np.float32)
            if k in weak_at:
                row[rec.index_of(ch)] = weak
                row[0] = 1 - weak
            elif q_as_zero and ch == "Q":
                row[rec.index_of("0")] = 0.9
                row[rec.index_of("Q")] = 0.09
            else:
                row[rec.index_of(ch)] = 0.98
            rows.append(row / row.sum())
        blank = np.full(classes, 1e-6, np.float32)
        blank[0] = 1
        rows.append(blank / blank.sum())
    return np.array(rows)


def test_a_dropped_last_character_of_a_green_plate_comes_back(reader):
    rec = reader.recogniser
    probs = plate_matrix(rec, "粤B12345D", weak_at=(7,))
    greedy = "".join(c.char for c in greedy_choices(probs, rec.charset))
    assert greedy == "粤B12345"  # plain decoding loses the D
    assert rec.decode_plate(probs, "green").text == "粤B12345D"


def test_a_dropped_first_character_comes_back(reader):
    rec = reader.recogniser
    probs = plate_matrix(rec, "沪AD1234", weak_at=(0,), weak=0.4)
    assert rec.decode_plate(probs, "blue").text == "沪AD1234"


def test_zero_with_q_close_behind_stays_a_zero(reader):
    # no boost towards Q: on real plates it turned zeros into Q more often than it helped
    rec = reader.recogniser
    assert rec.decode_plate(plate_matrix(rec, "皖G147Q2", q_as_zero=True)).text == "皖G14702"
    assert rec.decode_plate(plate_matrix(rec, "皖G147Q2")).text == "皖G147Q2"


def test_police_suffix_on_a_white_plate(reader):
    rec = reader.recogniser
    probs = plate_matrix(rec, "京A1234警")
    probs[-3:-1, rec.index_of("T")] = probs[-3:-1, rec.index_of("警")] * 1.5  # T looks better
    probs /= probs.sum(axis=1, keepdims=True)
    assert rec.decode_plate(probs, "blue").text == "京A1234T"
    assert rec.decode_plate(probs, "white").text == "京A1234警"


@pytest.mark.parametrize(
    "bgr,colour",
    [
        ((200, 80, 20), "blue"),
        ((20, 190, 230), "yellow"),
        ((90, 200, 60), "green"),
        ((235, 235, 235), "white"),
        ((20, 20, 20), "black"),
    ],
)
def test_plate_background(bgr, colour):
    crop = np.zeros((96, 320, 3), np.uint8)
    crop[:] = bgr
    crop[30:70, 40:60] = (255 - np.array(bgr)).astype(np.uint8)  # a character
    assert plate_background(crop) == colour


def test_crop_is_widened_to_a_whole_plate_on_both_sides():
    from camera_agent import locate

    # a row fit that saw only five of seven characters: 2.4 times as wide as high
    narrow = np.array([[100, 50], [340, 50], [340, 150], [100, 150]], np.float32)
    wide = locate.to_plate_width(narrow, margin=0.0)
    width = wide[1, 0] - wide[0, 0]
    assert wide[0, 0] < 100 and wide[1, 0] > 340  # both ends
    assert width >= locate.PLATE_ASPECT * 100  # at least a plate's width
    # a fit that is already a whole plate only gets the margin
    whole = np.array([[0, 0], [330, 0], [330, 100], [0, 100]], np.float32)
    assert locate.to_plate_width(whole, margin=0.05)[0, 0] == pytest.approx(-16.5)


def test_a_green_crop_read_as_seven_characters_has_lost_one(reader):
    rec = reader.recogniser
    # the last D is so faint that a 7-character reading beats it by more than the ordinary
    # colour penalty; on a green crop 7 characters are still out of the question
    probs = plate_matrix(rec, "粤B12345D", weak_at=(7,), weak=0.0005)
    assert rec.decode_plate(probs, None).text == "粤B12345"
    assert rec.decode_plate(probs, "green").text == "粤B12345D"


def test_a_green_plate_is_cut_at_a_new_energy_plate_width():
    from camera_agent import locate
    from camera_agent.reader import view_corners

    narrow = np.array([[100, 50], [340, 50], [340, 150], [100, 150]], np.float32)
    wide = locate.to_plate_width(narrow, margin=0.0, aspect=locate.GREEN_PLATE_ASPECT)
    assert wide[1, 0] - wide[0, 0] >= 480 / 140 * 100 - 1e-3
    # the close view of a green plate is no narrower than the plate either
    close = view_corners(narrow, None, green=True)[0]
    assert close[1, 0] - close[0, 0] >= 480 / 140 * 100 - 1e-3
    assert view_corners(narrow, None)[0][1, 0] < 340  # other plates: close to the row


def test_letter_o_read_on_a_plate_counts_as_a_zero(reader):
    # plates hold no letter O: the network's certain O on a plate's round 0 is that 0, with the
    # O's probability (not a tiny 0 left over, which made the reading too doubtful to keep)
    rec = reader.recogniser
    probs = plate_matrix(rec, "皖AW0N99")
    o, zero = rec.index_of("O")[0], rec.index_of("0")[0]
    at = probs[:, zero] > 0.5
    probs[at, o], probs[at, zero] = probs[at, zero], 1e-6
    merged = rec._merge_lookalikes(probs[None].copy())[0]
    assert np.allclose(merged[at, zero], probs[at, o] + 1e-6) and not merged[:, o].any()
    reading = rec.decode_plate(merged, "blue")
    assert reading.text == "皖AW0N99" and reading.confidence > 0.9
