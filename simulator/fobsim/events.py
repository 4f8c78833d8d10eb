"""`--json-events`: one JSON object per line on standard output, for scripts."""

import json


class EventLog:
    def __init__(self, stream):
        self._stream = stream

    def emit(self, event, **fields):
        fields["event"] = event
        self._stream.write(json.dumps(fields, sort_keys=True) + "\n")
        self._stream.flush()
