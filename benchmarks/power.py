"""Energy per board and build, from the board models running the real firmware (fobsim.models.energy).

Per press (30 s display), standby current, press-to-first-frame time and the
projected life on each build's documented cell; docs/hardware.md carries the
same table, generated from the same profiles.
"""

import sys

from fobsim.models import energy, power

TARGET_YEARS, TARGET_STANDBY_UA, TARGET_PRESS_MAH = 5, 5, 0.1


def main():
    try:
        figures = energy.measure_all()
    except power.ProfileError as error:
        sys.exit("power: %s" % error)
    print(energy.table(figures), end="")
    for f in figures:
        if f.variant == "latch":
            ok = (
                f.life_years(4) >= TARGET_YEARS
                and f.standby_ua <= TARGET_STANDBY_UA
                and f.press_mah <= TARGET_PRESS_MAH
            )
            print(
                "  %s latch build against the targets (>= %d years at 4/day, <= %d uA, <= %.1f mAh/press): %s"
                % (f.board, TARGET_YEARS, TARGET_STANDBY_UA, TARGET_PRESS_MAH, "met" if ok else "NOT met")
            )
