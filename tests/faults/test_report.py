"""The fault suite's table of counts, merged from the sessions of one `make test`."""

from tests.support.reliability import HEADER, Counts, merged


def test_rows_are_merged_by_scenario_the_latest_counts_kept_in_place() -> None:
    table = merged("", [Counts("a", 1, 1, 2, 2, 0), Counts("b", 3, 3, 0, 0, 0)])
    table = merged(table, [Counts("a", 5, 5, 7, 7, 0), Counts("c", 1, 1, 1, 1, 0)])
    assert table == (HEADER + "\n| a | 5 | 5 | 7 | 7 | 0 |\n| b | 3 | 3 | 0 | 0 | 0 |\n"
                     "| c | 1 | 1 | 1 | 1 | 0 |\n")
