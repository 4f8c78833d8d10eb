"""fobsim: the desktop simulator — the real firmware app on a virtual board, with window, pty and clock."""
