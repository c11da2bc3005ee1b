"""The fault suite's table of counts (tests/faults/conftest.py writes it; docs/reliability.md)."""

from dataclasses import dataclass

HEADER = ("| scenario | jobs submitted | jobs in exactly one final state | lines printed "
          "| lines stored | duplicates |\n| --- | ---: | ---: | ---: | ---: | ---: |")


@dataclass
class Counts:
    scenario: str
    submitted: int
    final_once: int
    lines_printed: int
    lines_stored: int
    duplicates: int

    def row(self) -> str:
        return (f"| {self.scenario} | {self.submitted} | {self.final_once} | "
                f"{self.lines_printed} | {self.lines_stored} | {self.duplicates} |")


def merged(table: str, rows: list[Counts]) -> str:
    """`table` (the report as it stands, or "") with `rows` in: a scenario already there is
    replaced where it stands, a new one appended."""
    by_scenario: dict[str, str] = {}
    for line in table.splitlines()[2:]:
        if line.startswith("| "):
            by_scenario[line[2:].split(" | ", 1)[0]] = line
    for row in rows:
        by_scenario[row.scenario] = row.row()
    return HEADER + "\n" + "\n".join(by_scenario.values()) + "\n"
