"""fobhost: the host side of fobkit and the `fob` command.

Flashing boards, provisioning over USB serial, the token inventory,
seed-file export and labels live here; `fob` dispatches to them.
"""
