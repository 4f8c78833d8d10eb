"""`fob label`: the serial number as text and Code 128 barcode, as on the back of a fob."""

import io
from pathlib import Path

import barcode
from barcode.writer import ImageWriter, SVGWriter

from fobcore import limits
from fobhost import outfile, serials
from fobhost.errors import UsageError

# Sized for a label on the back of a fob: 0.25 mm modules, a 10-module quiet zone, 8 mm bars.
OPTIONS = {"module_width": 0.25, "module_height": 8.0, "quiet_zone": 2.5, "font_size": 8, "text_distance": 3.5}
PNG_DPI = 600


class PngWriter(ImageWriter):
    """python-barcode's PNG writer, recording the DPI in the file (pHYs) so that it prints at its size."""

    def write(self, content, fp):
        content.save(fp, format="PNG", dpi=(self.dpi, self.dpi))


WRITERS = {".svg": SVGWriter, ".png": PngWriter}


def register(subparsers):
    parser = subparsers.add_parser(
        "label",
        help="draw a fob's serial-number label (SVG or PNG)",
        description="Draw the serial number as text and as a Code 128 barcode into FILE.svg or FILE.png.",
    )
    parser.add_argument(
        "serial", metavar="SERIAL", help="the serial number, %d to %d digits" % (limits.MIN_SERIAL, limits.MAX_SERIAL)
    )
    parser.add_argument("-o", "--output", required=True, metavar="FILE", help="FILE.svg or FILE.png")
    parser.add_argument("--force", action="store_true", help="replace FILE if it exists")
    parser.set_defaults(run=run)


def render(serial, suffix):
    """The label of ``serial`` as SVG or PNG bytes (``suffix`` is ".svg" or ".png")."""
    options = dict(OPTIONS, dpi=PNG_DPI) if suffix == ".png" else OPTIONS
    code = barcode.get("code128", serial, writer=WRITERS[suffix]())
    out = io.BytesIO()
    code.write(out, options)
    return out.getvalue()


def run(args):
    if not serials.is_serial(args.serial):
        raise UsageError("the serial number must be %d to %d digits" % (limits.MIN_SERIAL, limits.MAX_SERIAL))
    output = Path(args.output)
    suffix = output.suffix.lower()
    if suffix not in WRITERS:
        raise UsageError("the label file must end in .svg or .png")
    try:
        outfile.write(output, render(args.serial, suffix), args.force, private=False)
    except outfile.OutputError as error:
        raise UsageError(str(error)) from None
