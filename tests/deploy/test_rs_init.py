"""infra/mongodb/rs-init.js, the cluster override's replica-set initiation, run by Node against a
stand-in for mongosh's `rs` and `db` (no mongod here): what it initiates, adds and waits for."""

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "infra/mongodb/rs-init.js"
MEMBERS = ["mongodb:27017", "mongodb-2:27017", "mongodb-3:27017"]

# A replica set in memory with mongosh's shell helpers over it. `sleep` moves a clock on, and
# lets the set move on as a real one would: an initiated or grown set elects its first member
# and brings the others up, unless the scenario says it never does.
HARNESS = r"""
const fs = require("fs");
const vm = require("vm");
const [scriptPath, scenarioJson] = process.argv.slice(1);  // node -e: no script path
const s = JSON.parse(scenarioJson);
const calls = [];
let clock = 0;
let exitCode = 0;
class Quit extends Error {}
const set = { initiated: s.initiated, members: s.members || [], primary: s.primary ?? 0 };
let up = s.initiated ? (s.up ?? set.members.length) : 0;
let addFailures = s.addFailures || 0;
const stateOf = (i) => (i === set.primary ? 1 : i < up ? 2 : 5);
const rs = {
  status() {
    if (!set.initiated) {
      const e = new Error("no replset config has been received");
      e.codeName = "NotYetInitialized";
      throw e;
    }
    return { set: "rs0", members: set.members.map((name, i) => ({ name, state: stateOf(i),
      stateStr: ["", "PRIMARY", "SECONDARY", "", "", "STARTUP2"][stateOf(i)] })) };
  },
  conf() { return { members: set.members.map((host) => ({ host })) }; },
  initiate(config) {
    calls.push(["initiate", config]);
    set.initiated = true;
    set.members = config.members.map((m) => m.host);
    set.primary = -1;
  },
  add(member) {
    if (addFailures > 0) { addFailures--; throw new Error("CurrentConfigNotCommittedYet"); }
    calls.push(["add", member.host]);
    set.members.push(member.host);
  },
};
const db = { hello: () => ({ isWritablePrimary: set.initiated && set.primary === 0 }) };
const sandbox = {
  rs, db, process: { env: s.env },
  Date: { now: () => clock },
  print: (...a) => calls.push(["print", a.join(" ")]),
  printjson: () => {},
  sleep: (ms) => {
    clock += ms;
    if (!s.stuck) { if (set.primary === -1) set.primary = 0; up = set.members.length; }
  },
  quit: (code) => { exitCode = code; throw new Quit(); },
};
try {
  vm.runInNewContext(fs.readFileSync(scriptPath, "utf8"), sandbox);
} catch (e) {
  if (!(e instanceof Quit)) { calls.push(["error", e.message]); exitCode = 1; }
}
console.log(JSON.stringify({ exitCode, calls, clock }));
"""


def run(**scenario: Any) -> dict[str, Any]:
    node = shutil.which("node")
    assert node, "Node.js is missing (the frontend needs it too): `make install`"
    scenario.setdefault("env", {"RS_MEMBERS": ",".join(MEMBERS), "RS_WAIT_SECONDS": "60"})
    result = subprocess.run(
        [node, "-e", HARNESS, "--", str(SCRIPT), json.dumps(scenario)],
        check=True, capture_output=True, text=True, timeout=60,
    )
    return json.loads(result.stdout)


def changes(outcome: dict[str, Any]) -> list[Any]:
    return [call for call in outcome["calls"] if call[0] in ("initiate", "add")]


def test_a_new_set_is_initiated_with_every_member_and_waited_for() -> None:
    outcome = run(initiated=False)
    assert outcome["exitCode"] == 0
    members = [{"_id": i, "host": host} for i, host in enumerate(MEMBERS)]
    assert changes(outcome) == [["initiate", {"_id": "rs0", "members": members}]]
    assert "rs0 is ready" in outcome["calls"][-1][1]


def test_the_one_node_set_gets_the_missing_members() -> None:
    # Given the single member of docker-compose.yaml, primary of its one-node set
    outcome = run(initiated=True, members=MEMBERS[:1], primary=0)
    # Then the two others are added, in order, and nothing is initiated again
    assert outcome["exitCode"] == 0
    assert changes(outcome) == [["add", MEMBERS[1]], ["add", MEMBERS[2]]]


def test_an_add_refused_while_a_reconfiguration_is_pending_is_retried() -> None:
    outcome = run(initiated=True, members=MEMBERS[:1], primary=0, addFailures=2)
    assert outcome["exitCode"] == 0
    assert changes(outcome) == [["add", MEMBERS[1]], ["add", MEMBERS[2]]]


def test_a_complete_set_is_left_as_it_is_whichever_member_is_primary() -> None:
    outcome = run(initiated=True, members=MEMBERS, primary=2)
    assert outcome["exitCode"] == 0
    assert changes(outcome) == []
    assert outcome["clock"] == 0  # ready at once: no waiting


@pytest.mark.parametrize(
    ("scenario", "why"),
    [
        ({"initiated": True, "members": MEMBERS[:1], "primary": -1, "stuck": True}, "primary"),
        ({"initiated": False, "stuck": True}, "members up"),
        ({"initiated": True, "members": MEMBERS, "primary": 0, "up": 1, "stuck": True},
         "members up"),
    ],
    ids=["members-missing-and-no-primary", "never-elected", "primary-alone"],
)
def test_it_gives_up_at_the_deadline_and_fails(scenario: dict[str, Any], why: str) -> None:
    outcome = run(**scenario)
    # The services must not start against a set without a primary: the one-shot fails.
    assert outcome["exitCode"] == 1
    assert ["add", MEMBERS[1]] not in outcome["calls"]
    assert any(why in call[1] for call in outcome["calls"] if call[0] == "print")
    assert 60_000 <= outcome["clock"] <= 62_000


def test_it_refuses_an_empty_member_list() -> None:
    outcome = run(initiated=False, env={"RS_MEMBERS": " , "})
    assert outcome["exitCode"] == 1 and changes(outcome) == []
