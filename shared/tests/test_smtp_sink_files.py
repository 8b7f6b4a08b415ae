"""The SMTP sink's files: a message appears whole under its `.eml` name, never half-written.

(A reader listing `*.eml` while a message was being written once parsed a file with no headers yet:
`message["To"]` was None in tests/test_flows.py.)"""

from __future__ import annotations

from pathlib import Path

from beat_shared.smtp_sink import write_whole


def test_a_message_is_written_aside_then_renamed_into_place(tmp_path: Path, monkeypatch):
    target = tmp_path / "1.eml"
    written_to: list[str] = []
    real_write = Path.write_bytes

    def watching_write(path: Path, data: bytes) -> int:
        written_to.append(path.name)
        return real_write(path, data)

    monkeypatch.setattr(Path, "write_bytes", watching_write)
    write_whole(target, b"To: dana@example.org\r\n\r\nHello")
    assert written_to and not any(name.endswith(".eml") for name in written_to)  # no reader lists it while written
    assert target.read_bytes() == b"To: dana@example.org\r\n\r\nHello"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1.eml"]  # nothing left aside
