from socketio import packet

from jobrunner_shared.sio_packet import Packet

RAN = ["job:ran", {"job_id": "6755a3c2f1e4b2a9c8d7e6f5", "attempt": 1, "status": "succeeded",
                   "exit_code": 0, "error": None, "pid": 4242, "duration_seconds": 0.003,
                   "lines": [{"seq": 1, "stream": "stdout", "text": "héllo \"quoted\" ✓",
                              "ts": "2026-12-07T17:00:00.123456Z"}]}]


def encoded(cls: type[packet.Packet], data, **kw) -> str:
    return cls(packet.EVENT, data, namespace="/workers", id=7, **kw).encode()


def test_what_it_sends_the_default_packet_reads_the_same():
    read = packet.Packet(encoded_packet=encoded(Packet, RAN))
    assert (read.packet_type, read.namespace, read.id, read.data) == (packet.EVENT, "/workers",
                                                                       7, RAN)


def test_it_reads_what_the_default_packet_sends():
    read = Packet(encoded_packet=encoded(packet.Packet, RAN))
    assert (read.packet_type, read.namespace, read.id, read.data) == (packet.EVENT, "/workers",
                                                                       7, RAN)


def test_an_ack_and_an_event_without_data():
    ack = Packet(encoded_packet=Packet(packet.ACK, [{"ok": True, "error": None}],
                                       namespace="/workers", id=3).encode())
    assert (ack.packet_type, ack.id, ack.data) == (packet.ACK, 3, [{"ok": True, "error": None}])
    assert Packet(packet.CONNECT, None, namespace="/workers").encode() == "0/workers,"


def test_the_default_packet_is_left_as_it_was():
    assert packet.Packet.uses_binary_events and packet.Packet.json is not Packet.json
