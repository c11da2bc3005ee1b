// The replica set of docker-compose.cluster.yaml, made or completed by its one-shot service
// `mongodb-rs-init`: mongosh runs this file against the first member, logged in as the root
// user. RS_MEMBERS lists every member (host:port, comma-separated), the first one first.
//
// - a set not initiated yet: initiated with every member (the others must be empty, which
//   they are: only the first member gets the root user);
// - a set that lacks members (the one-node set of docker-compose.yaml growing to three): the
//   missing ones are added; they copy the data from the primary (initial sync);
// - then it waits, up to RS_WAIT_SECONDS, until there is a primary and a majority of the
//   members is up, so that the services start against a set that takes majority writes.
// Running it again changes nothing.

const setName = process.env.RS_NAME || "rs0";
const members = (process.env.RS_MEMBERS || "").split(",").map((h) => h.trim()).filter(Boolean);
const deadline = Date.now() + Number(process.env.RS_WAIT_SECONDS || 300) * 1000;
if (members.length === 0) {
  throw new Error("RS_MEMBERS is empty: list the members, e.g. mongodb:27017,mongodb-2:27017");
}

function replicaStatus() {
  try {
    return rs.status();
  } catch (e) {
    if (e.codeName === "NotYetInitialized") {
      return null;
    }
    throw e;
  }
}

function waitFor(what, ready) {
  for (;;) {
    const value = ready();
    if (value) {
      return value;
    }
    if (Date.now() > deadline) {
      print(`rs-init: gave up waiting for ${what}`);
      printjson(replicaStatus());
      quit(1);
    }
    sleep(1000);
  }
}

// Why retried: a reconfiguration is refused while the previous one is not yet committed.
function retried(what, action) {
  waitFor(what, () => {
    try {
      action();
      return true;
    } catch (e) {
      print(`rs-init: ${what}: ${e.message}; retrying`);
      return false;
    }
  });
}

if (replicaStatus() === null) {
  print(`rs-init: initiating ${setName} with ${members.join(", ")}`);
  rs.initiate({ _id: setName, members: members.map((host, i) => ({ _id: i, host })) });
} else {
  const present = new Set(rs.conf().members.map((m) => m.host));
  const missing = members.filter((host) => !present.has(host));
  if (missing.length) {
    // A set that lacks members is the one-node set: this member is its primary.
    waitFor("this member to be the primary (add the members from the primary)",
      () => db.hello().isWritablePrimary);
    for (const host of missing) {
      print(`rs-init: adding ${host} to ${setName}`);
      retried(`adding ${host}`, () => rs.add({ host }));
    }
  }
}

const majority = Math.floor(members.length / 2) + 1;
waitFor(`a primary and ${majority} members up`, () => {
  const status = replicaStatus();
  if (!status) {
    return false;
  }
  const up = status.members.filter((m) => m.state === 1 || m.state === 2);
  return up.some((m) => m.state === 1) && up.length >= majority;
});
print(`rs-init: ${setName} is ready: ${replicaStatus().members.map((m) => `${m.name} ${m.stateStr}`).join(", ")}`);
