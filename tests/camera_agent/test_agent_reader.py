import io
import json
import logging
import random

import cv2
import numpy as np
import pytest
import render

from camera_agent.agent import FrameProcessor
from camera_agent.cli import main
from camera_agent.gate import DedupWindow, MotionGate
from camera_agent.sources import Frame, capture_frames, load_image
from camera_agent.spool import Spool


def scene(seed: int, kind: str, effects=()) -> tuple[np.ndarray, render.Plate]:
    rng = random.Random(seed)
    plate = render.random_plate(rng, kind)
    frame, _ = render.plate_scene(rng, plate, list(effects))
    return cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), plate


@pytest.mark.parametrize(
    "kind,seed",
    [
        ("blue", 1),
        ("blue", 2),
        ("yellow", 3),
        ("yellow_suffix", 4),
        ("green_small", 5),
        ("green_small", 6),
        ("green_large", 7),
        ("police", 8),
        ("hkmo", 9),
    ],
)
def test_reads_generated_plate_of_each_colour(reader, kind, seed):
    frame, plate = scene(seed, kind)
    found = reader.read_plates(frame)
    assert [(p.text, p.colour) for p in found] == [(plate.text, plate.colour)]
    assert 0 < found[0].confidence <= 1


def test_frame_without_plate_gives_nothing(reader):
    rng = random.Random(42)
    for _ in range(3):
        frame = cv2.cvtColor(render.random_background(rng), cv2.COLOR_RGB2BGR)
        assert reader.read_plates(frame) == []


def test_reads_a_qr_code(reader):
    import segno

    buffer = io.BytesIO()
    qr = segno.make_qr("DC-CHECKIN-12345", error="m")  # not micro QR: zbar cannot read those
    qr.save(buffer, kind="png", scale=8, border=4)
    image = cv2.imdecode(np.frombuffer(buffer.getvalue(), np.uint8), cv2.IMREAD_COLOR)
    frame = np.full((720, 1280, 3), 200, np.uint8)
    frame[100 : 100 + image.shape[0], 100 : 100 + image.shape[1]] = image
    codes = reader.read_codes_in(frame)
    assert [(c.text, c.symbology) for c in codes] == [("DC-CHECKIN-12345", "QRCODE")]


def test_corrupt_and_truncated_images_are_skipped_with_a_log_line(tmp_path, caplog, capsys):
    frame, plate = scene(1, "blue")
    good = tmp_path / "a_good.jpg"
    cv2.imwrite(str(good), frame)
    data = good.read_bytes()
    (tmp_path / "b_truncated.jpg").write_bytes(data[: len(data) // 2])
    (tmp_path / "c_corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really" + b"IEND")
    with caplog.at_level(logging.WARNING):
        assert load_image(tmp_path / "b_truncated.jpg") is None
        assert main(["read", str(tmp_path), "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["file"] for line in lines] == [str(good)]
    assert lines[0]["plates"][0]["text"] == plate.text
    assert set(lines[0]["plates"][0]) == {"text", "colour", "confidence", "box"}
    assert "truncated" in caplog.text and "c_corrupt.png" in caplog.text


def test_jpeg_with_zero_padding_after_its_end_marker_is_read(tmp_path, reader):
    frame, plate = scene(1, "blue")
    ok, encoded = cv2.imencode(".jpg", frame)
    padded = tmp_path / "padded.jpg"
    padded.write_bytes(encoded.tobytes() + b"\x00" * 3000)
    image = load_image(padded)
    assert image is not None
    assert [p.text for p in reader.read_plates(image)] == [plate.text]
    # a truncated file padded with zeros is still refused
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(encoded.tobytes()[: len(encoded) // 2] + b"\x00" * 3000)
    assert load_image(cut) is None


def test_tight_crop_of_a_plate_is_read_as_a_plate(reader, tmp_path, capsys):
    rng = random.Random(12)
    plate = render.random_plate(rng, "blue")
    crop = cv2.cvtColor(np.asarray(render.render_plate(plate)), cv2.COLOR_RGB2BGR)
    crop = cv2.resize(crop, (160, 50), interpolation=cv2.INTER_AREA)  # small, as cut from a photo
    assert [p.text for p in reader.read_crop(crop)] == [plate.text]
    # the command line sees the crop's shape and reads it as a plate too
    path = tmp_path / "crop.png"
    cv2.imwrite(str(path), crop)
    assert main(["read", str(path), "--json", "--no-codes"]) == 0
    line = json.loads(capsys.readouterr().out)
    assert [p["text"] for p in line["plates"]] == [plate.text]
    assert line["plates"][0]["colour"] == "blue"


def test_double_row_yellow_plate_is_read_as_one_plate(reader, tmp_path, capsys):
    # the rear plate of a lorry: province and letter on the top row, five characters below
    rng = random.Random(104)
    plate = render.random_plate(rng, "yellow_double")
    face = cv2.cvtColor(render.render_plate(plate), cv2.COLOR_RGB2BGR)
    crop = cv2.resize(face, (160, 80), interpolation=cv2.INTER_AREA)  # 2:1, as cut from a photo
    path = tmp_path / "double.png"
    cv2.imwrite(str(path), crop)
    assert main(["read", str(path), "--json", "--no-codes"]) == 0
    line = json.loads(capsys.readouterr().out)
    assert [(p["text"], p["colour"]) for p in line["plates"]] == [(plate.text, "yellow")]
    # a larger crop of it, 2:1 like a frame, is searched as a frame, then read as a crop
    large = cv2.copyMakeBorder(cv2.resize(face, (400, 200)), 6, 6, 6, 6, cv2.BORDER_REPLICATE)
    assert [p.text for p in reader.read(large)[0]] == [plate.text]
    # and in a frame, on a car, where only its big bottom row looks like a row of characters
    frame, _ = render.plate_scene(rng, plate, [])
    found = reader.read_plates(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    assert [(p.text, p.colour) for p in found] == [(plate.text, "yellow")]


def test_a_row_fit_off_the_plate_is_mended_by_the_colour_outline(reader, monkeypatch):
    # a sheared plate (seen from the side and above): the row fit, square to the character
    # row, saw only the last five leaning characters and cut the plate off centre, without
    # its province and letter; the blue mask's outline holds the whole plate
    from camera_agent import locate
    from camera_agent import reader as reader_module

    frame, plate = scene(22, "blue")
    true_fit = locate.fit_to_row

    def off_centre(frame_bgr, corners, upright=False):
        fit = true_fit(frame_bgr, corners, upright)
        if fit.score:
            along = fit.corners[1] - fit.corners[0]
            fit = locate.RowFit(fit.score, fit.corners + 0.45 * along)
        return fit

    monkeypatch.setattr(reader_module.locate, "fit_to_row", off_centre)
    assert [p.text for p in reader.read_plates(frame)] == [plate.text]


@pytest.mark.parametrize("degrees", [-40, 40])
def test_plate_lying_at_40_degrees_is_read(reader, degrees):
    # a camera or a plate mounted askew: the colour mask's shape lies at 40 degrees
    rng = random.Random(301)
    plate = render.random_plate(rng, "blue")
    frame = render.random_background(rng)
    render.draw_car(rng, frame, 640, 400, 1000)
    face = render.render_plate(plate)
    h, w = face.shape[:2]
    half = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], np.float32) * [130, 130 * h / w]
    a = np.deg2rad(degrees)
    turn = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]], np.float32)
    corners = (half @ turn.T + [640, 400]).astype(np.float32)
    m = cv2.getPerspectiveTransform(np.float32([[0, 0], [w, 0], [w, h], [0, h]]), corners)
    warped = cv2.warpPerspective(face, m, (1280, 720), flags=cv2.INTER_AREA)
    inside = cv2.warpPerspective(np.full((h, w), 255, np.uint8), m, (1280, 720)) > 127
    frame[inside] = warped[inside]
    found = reader.read_plates(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    assert [p.text for p in found] == [plate.text]


def test_a_second_plate_with_a_weaker_row_is_kept_when_read_clearly(reader, monkeypatch):
    # a parking lot: the plate found first may be a parked car's; the one at the gate, whose
    # row scored under 9, was skipped as "a second plate must look very much like one"
    from camera_agent import locate
    from camera_agent import reader as reader_module

    rng = random.Random(41)
    frame = render.random_background(rng)
    plates = [render.random_plate(rng, "blue"), render.random_plate(rng, "yellow")]
    for plate, (cx, cy) in zip(plates, [(350, 300), (900, 480)], strict=True):
        render.draw_car(rng, frame, cx, cy, 900)
        render.place_plate(rng, frame, render.render_plate(plate), 240, (cx, cy), skew=0.05)
    frame = cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
    assert sorted(p.text for p in reader.read_plates(frame)) == sorted(p.text for p in plates)
    true_fit = locate.fit_to_row

    def weaker(frame_bgr, corners, upright=False):
        fit = true_fit(frame_bgr, corners, upright)
        return locate.RowFit(min(fit.score, 8.0), fit.corners)

    monkeypatch.setattr(reader_module.locate, "fit_to_row", weaker)
    assert sorted(p.text for p in reader.read_plates(frame)) == sorted(p.text for p in plates)


def test_infra_red_grey_frame_reads_the_plate_without_guessing_its_colour(reader):
    from camera_agent.reader import is_colourless

    frame, plate = scene(3, "yellow")
    assert not is_colourless(frame)
    grey = cv2.cvtColor(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    assert is_colourless(grey)
    # blue and yellow look alike in grey: the colour is not known, not a guess (it was blue)
    assert [(p.text, p.colour) for p in reader.read_plates(grey)] == [(plate.text, None)]
    # a new-energy plate's colour follows from its eight characters
    frame, plate = scene(5, "green_small")
    grey = cv2.cvtColor(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    assert [(p.text, p.colour) for p in reader.read_plates(grey)] == [(plate.text, "green")]
    # and the next colour frame is judged by its own colours again
    frame, plate = scene(3, "yellow")
    assert [(p.text, p.colour) for p in reader.read_plates(frame)] == [(plate.text, "yellow")]


def test_dedup_window_makes_repeats_one_event():
    window = DedupWindow(seconds=10)
    assert window.is_new("plate", "沪A12345", 0)
    assert not window.is_new("plate", "沪A12345", 5)
    assert not window.is_new("plate", "沪A12345", 14)  # still in view: the window moves on
    assert window.is_new("plate", "沪A54321", 14)
    assert window.is_new("plate", "沪A12345", 30)  # gone for longer than the window


def test_motion_gate_skips_still_frames_after_the_hold():
    gate = MotionGate(threshold=0.004, hold_seconds=1.0)
    still = np.full((720, 1280, 3), 90, np.uint8)
    moved = still.copy()
    cv2.rectangle(moved, (300, 300), (700, 600), (20, 200, 20), -1)
    assert gate.should_read(still, 0.0)  # first frame
    assert gate.should_read(still, 0.5)  # within the hold
    assert not gate.should_read(still, 2.0)
    assert gate.should_read(moved, 2.1)


def test_processor_spools_one_event_for_repeated_sightings(tmp_path, reader):
    frame, plate = scene(4, "yellow")
    spool = Spool(tmp_path)
    processor = FrameProcessor(reader, spool, "GATE-1", dedup_seconds=30, motion=None)
    for t in (0.0, 0.5, 1.0):
        processor.process(Frame(frame, t, "f"))
    events = [json.loads(p.read_text()) for p in spool.pending()]
    assert len(events) == 1
    event = events[0]
    assert (event["kind"], event["text"], event["colour"]) == ("plate", plate.text, "yellow")
    assert event["camera_code"] == "GATE-1" and event["seen_at"].endswith("Z")
    assert event["image_jpeg_b64"]


def test_dead_stream_reconnects_with_growing_back_off(caplog):
    waits: list[float] = []
    with caplog.at_level(logging.WARNING):
        frames = capture_frames(
            "rtsp-not-there-0",
            reconnect_initial=1,
            reconnect_max=4,
            stop=lambda: len(waits) >= 4,
            sleep=waits.append,
        )
        assert list(frames) == []
    assert waits == [1, 2, 4, 4]
    assert "retrying" in caplog.text


def test_motion_gate_reads_a_few_still_frames_a_second_during_the_hold():
    gate = MotionGate(threshold=0.004, hold_seconds=2.0, hold_fps=2.0)
    still = np.full((720, 1280, 3), 90, np.uint8)
    reads = [t / 20 for t in range(60) if gate.should_read(still, t / 20)]
    # the first frame counts as motion; then one still frame each half second until 2 s
    assert reads == [0.0, 0.5, 1.0, 1.5, 2.0]


@pytest.mark.parametrize(
    "kind,seed",
    [("blue", 31), ("yellow", 32), ("green_small", 33), ("police", 34), ("hkmo", 35)],
)
def test_reads_a_plate_half_in_shadow(reader, kind, seed):
    # the colour masks see only the lit half of such a plate; the character row finds it all
    frame, plate = scene(seed, kind, ["shadow"])
    assert [p.text for p in reader.read_plates(frame)] == [plate.text]


def test_row_fit_recovers_the_whole_plate_from_a_part_of_it(reader):
    from camera_agent import locate

    rng = random.Random(5)
    plate = render.random_plate(rng, "green_small")
    frame, corners = render.plate_scene(rng, plate, [])
    frame = cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
    # only the lower half of the plate, as the green mask of a new-energy plate gives it
    tl, tr, br, bl = corners
    half = np.array([(tl + bl) / 2, (tr + br) / 2, br, bl], np.float32)
    fit = locate.fit_to_row(frame, half)
    assert fit.score >= locate.MIN_TEXT_SCORE
    width = np.linalg.norm(corners[1] - corners[0])
    # the bottom corners are close; the top ones are extrapolated without the plate's
    # perspective, so they only need to be close enough for the recogniser
    assert np.abs(fit.corners[2:] - corners[2:]).max() < 0.08 * width
    crop = locate.crop_plate(frame, locate.widen(fit.corners, -0.02, -0.05))
    reading = reader.recogniser.read_plate(crop)
    assert reading is not None and reading.text == plate.text


@pytest.mark.parametrize("yaw_sign", [-1, 1])
def test_row_fit_follows_the_perspective_of_a_turned_plate(yaw_sign):
    from camera_agent import locate

    rng = random.Random(8)
    plate = render.random_plate(rng, "blue")
    frame = render.random_background(rng)
    face = render.render_plate(plate)
    h, w = face.shape[:2]
    # one end of the plate a quarter taller than the other, as a plate turned to the camera
    cx, cy, pw = 640, 400, 260
    ph = pw * h / w
    grow = 1 + 0.12 * yaw_sign
    shrink = 1 - 0.12 * yaw_sign
    corners = np.array(
        [
            [cx - pw / 2, cy - ph / 2 * shrink],
            [cx + pw / 2, cy - ph / 2 * grow],
            [cx + pw / 2, cy + ph / 2 * grow],
            [cx - pw / 2, cy + ph / 2 * shrink],
        ],
        np.float32,
    )
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    m = cv2.getPerspectiveTransform(src, corners)
    warped = cv2.warpPerspective(face, m, (1280, 720), flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), m, (1280, 720))
    frame[mask > 127] = warped[mask > 127]
    frame = cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
    box = np.array(
        [
            [cx - pw / 2, cy - ph / 2],
            [cx + pw / 2, cy - ph / 2],
            [cx + pw / 2, cy + ph / 2],
            [cx - pw / 2, cy + ph / 2],
        ],
        np.float32,
    )
    fit = locate.fit_to_row(frame, box)
    left = np.linalg.norm(fit.corners[3] - fit.corners[0])
    right = np.linalg.norm(fit.corners[2] - fit.corners[1])
    # the fitted plate is taller at the same end as the true one, by about as much
    assert (right / left - 1) * yaw_sign > 0.1


def test_blurred_plate_has_more_strokes_than_a_plain_board():
    from camera_agent.reader import stroke_energy

    rng = random.Random(4)
    face = cv2.cvtColor(
        render.render_plate(render.random_plate(rng, "green_large")), cv2.COLOR_RGB2BGR
    )
    face = cv2.GaussianBlur(cv2.resize(face, (180, 60)), (7, 7), 0)
    board = np.full_like(face, face[2, 2])
    corners = np.array([[0, 0], [180, 0], [180, 60], [0, 60]], np.float32)
    assert stroke_energy(face, corners) > 2 * stroke_energy(board, corners)


def test_views_of_one_plate_vote_on_one_reading(reader):
    from camera_agent import locate
    from camera_agent.reader import view_corners

    rec = reader.recogniser
    rng = random.Random(12)
    plate = render.random_plate(rng, "yellow_suffix")
    frame, corners = render.plate_scene(rng, plate, ["noise"])
    frame = cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
    crop = locate.crop_plate(frame, locate.to_plate_width(corners))
    views = [crop] + [locate.crop_plate(frame, c) for c in view_corners(corners, crop)]
    reading, near = rec.read_plate_views(views)
    assert reading is not None and reading.text == plate.text and near
    # the first view's output, already computed, gives the same vote
    rec.read_plate_counted(crop)
    again, _ = rec.read_plate_views(views, rec.last_probs[0])
    assert again.text == reading.text and again.confidence == pytest.approx(reading.confidence)


def test_bent_colour_quadrilateral_is_fitted_in_its_bounding_rectangle(reader):
    from camera_agent import locate

    rng = random.Random(5)
    plate = render.random_plate(rng, "green_small")
    frame, corners = render.plate_scene(rng, plate, [])
    frame = cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
    # a shadow cut the colour mask into a wedge: one end three times as tall as the other
    tl, tr, br, bl = corners
    bent = np.array([tl, tr + (br - tr) * 0.7, br, bl], np.float32)
    fit = locate.fit_to_row(frame, bent, upright=True)
    assert fit.score >= locate.MIN_TEXT_SCORE
    left = np.linalg.norm(fit.corners[3] - fit.corners[0])
    right = np.linalg.norm(fit.corners[2] - fit.corners[1])
    assert max(left, right) <= 2 * min(left, right)  # no wedge, no crossed or huge plate
    width = np.linalg.norm(corners[1] - corners[0])
    assert np.abs(fit.corners - corners).max() < 0.15 * width
    crop = locate.crop_plate(frame, locate.to_plate_width(fit.corners))
    reading = reader.recogniser.read_plate(crop)
    assert reading is not None and reading.text == plate.text


def test_an_edge_candidate_on_a_green_background_is_read_last():
    from camera_agent.reader import _green_inside

    rng = random.Random(7)
    face = cv2.cvtColor(
        render.render_plate(render.random_plate(rng, "green_large")), cv2.COLOR_RGB2BGR
    )
    face = cv2.GaussianBlur(cv2.resize(face, (240, 70)), (5, 5), 0)
    frame = np.full((200, 400, 3), 128, np.uint8)
    frame[60:130, 80:320] = face
    # the edge mask's box: the characters' middle, shorter than the plate
    box = np.array([[110, 75], [290, 75], [290, 115], [110, 115]], np.float32)
    assert _green_inside(frame, box)
    grey = np.full_like(frame, 128)
    grey[60:130, 80:320] = cv2.cvtColor(cv2.cvtColor(face, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    assert not _green_inside(grey, box)
