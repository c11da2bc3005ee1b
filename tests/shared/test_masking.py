"""What the worker masks for a secret value (the master computes it, the worker applies it)."""

from hypothesis import given
from hypothesis import strategies as st

from jobrunner_shared.masking import mask_values


def test_whole_values_are_masked_even_short_ones_longest_first() -> None:
    assert mask_values(["abc", "", "abcdef"]) == ["abcdef", "abc"]


def test_a_value_ending_in_a_newline_is_masked_without_it() -> None:
    # Output is read line by line: "tok-123\n" never appears in a line, "tok-123" does.
    assert "tok-123" in mask_values(["tok-123\n"])
    assert "ab" in mask_values(["ab\r\n"])  # even when short: it is the whole value


def test_each_line_of_a_multiline_value_of_four_characters_or_more_is_masked() -> None:
    pem = "-----BEGIN KEY-----\n  MIIBOgIBAAJBAK  \n}\nok\n-----END KEY-----\n"
    parts = mask_values([pem])
    assert "MIIBOgIBAAJBAK" in parts  # stripped
    assert "-----BEGIN KEY-----" in parts and "-----END KEY-----" in parts
    # Short lines would mask every `}` or `ok` in the output: not masked on their own.
    assert "}" not in parts and "ok" not in parts
    assert pem in parts and pem.strip("\r\n") in parts


@given(st.lists(st.text(max_size=30), max_size=5))
def test_every_value_is_masked_whole_and_longer_ones_first(values: list[str]) -> None:
    parts = mask_values(values)
    assert all(v in parts for v in values if v)
    assert "" not in parts
    # Longest first: a shorter value inside a longer one cannot leave the rest of it visible
    assert [len(p) for p in parts] == sorted((len(p) for p in parts), reverse=True)
