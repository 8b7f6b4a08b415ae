"""DEBUG logging never turns on the loggers that write message bodies (personal data)."""

import logging

from beat_shared.logs import PAYLOAD_LOGGERS, configure_logging


def test_debug_level_leaves_payload_loggers_at_info():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging("DEBUG", "json")
        assert root.isEnabledFor(logging.DEBUG)
        for name in PAYLOAD_LOGGERS:
            assert not logging.getLogger(name).isEnabledFor(logging.DEBUG)
            assert logging.getLogger(name).isEnabledFor(logging.INFO)
        configure_logging("WARNING", "text")
        assert not logging.getLogger("nameko.rpc").isEnabledFor(logging.INFO)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name in PAYLOAD_LOGGERS:
            logging.getLogger(name).setLevel(logging.NOTSET)
