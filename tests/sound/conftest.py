import pytest

from support.synthetic import SyntheticVoice

from .helpers import standard_timeline


@pytest.fixture
def voice() -> SyntheticVoice:
    return SyntheticVoice()


@pytest.fixture
def timeline(voice):
    return standard_timeline(voice)
