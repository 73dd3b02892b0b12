import pytest

from camera_agent import plates


@pytest.mark.parametrize(
    "text",
    [
        "沪A12345",
        "京N8K9L2",
        "粤BD12345",
        "粤BFA1234",
        "粤B12345D",
        "浙A1234学",
        "苏E1234挂",
        "京A1234警",
        "粤Z1234港",
        "粤Z1234澳",
    ],
)
def test_valid_plates(text):
    assert plates.is_plate(text)


@pytest.mark.parametrize(
    "text",
    [
        "沪I12345",
        "沪O12345",
        "沪A1234",
        "沪A123456",
        "XA12345",
        "粤BX12345",
        "粤B1234DD",
        "沪A1234O",
        "EXIT",
        "",
        "粤BD1234A",
    ],
)
def test_invalid_plates(text):
    assert not plates.is_plate(text)


def test_separator_and_full_width_are_dropped():
    assert plates.normalise("沪Ａ·12345") == "沪A12345"


def test_lookalikes_fixed_only_where_the_grammar_forbids():
    assert plates.fix_with_lookalikes("沪812345") == "沪B12345"  # authority must be a letter
    assert plates.fix_with_lookalikes("粤BD1234S") == "粤BD12345"
    assert plates.fix_with_lookalikes("粤BD1234X") is None  # no digit looks like X
