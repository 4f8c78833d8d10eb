"""docs/firmware.md's firmware tables are the ones `python -m benchmarks.firmware --write-docs` writes."""

import re

import pytest

from benchmarks import firmware

DOCS = firmware.DOCS.read_text()
KEYS = [key for _, key, _ in firmware.VM_ROWS]


def _block(markers):
    begin, end = markers
    return DOCS.split(begin, 1)[1].split(end, 1)[0].strip("\n").splitlines()


def test_the_stored_sizes_are_the_generated_ones(tmp_path):
    generated = firmware.size_table(firmware.board_sizes(tmp_path))
    assert firmware.docs_with(DOCS, firmware.SIZE_TABLE, generated) == DOCS, (
        "run python -m benchmarks.firmware --write-docs"
    )


def test_the_measured_files_do_not_depend_on_where_the_checkout_is(tmp_path):
    """CI's clone lives at another path; the sizes measured must be those `fob flash` installs anywhere."""
    firmware.board_sizes(tmp_path)
    checkout = str(firmware.ROOT).encode()
    compiled = sorted(tmp_path.rglob("*.mpy"))
    assert compiled
    assert [f.relative_to(tmp_path) for f in compiled if checkout in f.read_bytes()] == []


def _form(fmt):
    """A pattern for any value ``fmt`` writes: its output for a sample, each number made a wildcard."""
    return re.sub(r"\d+", r"\\d+", re.escape(fmt(1234.5678)))


def test_the_vm_table_has_every_figure_the_bench_measures_in_its_form():
    header, rule, *rows = _block(firmware.VM_TABLE)
    assert [header, rule] == firmware.vm_table({a: dict.fromkeys(KEYS, 0) for a in ("sha1", "sha256")}).split("\n")[:2]
    assert len(rows) == len(firmware.VM_ROWS)
    for row, (label, key, fmt) in zip(rows, firmware.VM_ROWS, strict=True):
        target = re.escape(firmware.VM_TARGETS.get(key, ""))
        assert re.fullmatch(r"\| %s \| %s \| %s \| %s \|" % (re.escape(label), _form(fmt), _form(fmt), target), row), (
            row
        )


def test_docs_without_the_markers_are_a_clear_error():
    with pytest.raises(SystemExit, match="no .*size-table.* markers"):
        firmware.docs_with("# The firmware\n", firmware.SIZE_TABLE, "")
