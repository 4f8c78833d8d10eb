"""The simulator's window: a key fob drawn in Tk, its display pixel for pixel.

The firmware runs in another thread; it hands over frames and status text
with ``post_frame``/``post_status``, which wake Tk through a pipe, so the
window sleeps in Tk's event loop instead of polling.
"""

import os
import threading
import tkinter as tk

from fobsim import screen

BODY = "#23262b"
BODY_EDGE = "#3a3f46"
LABEL = "#9aa3ad"
MARGIN = 28
HINT = "press the button: click it, or press space or Enter"
WIDTH = 128  # every fob's panel is 128 pixels wide (32 or 64 high)


def _hex(rgb):
    return "#%02x%02x%02x" % rgb


class FobWindow:
    def __init__(self, width, height, on_press, title="fobkit simulator", scale=4):
        self.width, self.height, self.scale = width, height, scale
        self._on_press = on_press
        self._lock = threading.Lock()
        self._frame = None
        self._status = ""
        self.root = tk.Tk()
        self.root.title(title)
        self.root.configure(background="#101214")
        self.root.resizable(False, False)
        self._build()
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_write, False)
        self.wake_fd = self._wake_write
        self.root.tk.createfilehandler(self._wake_read, tk.READABLE, self._drain)
        for key in ("<space>", "<Return>", "<KP_Enter>"):
            self.root.bind(key, lambda event: self._on_press())
        self.root.protocol("WM_DELETE_WINDOW", self.close)

    def _build(self):
        screen_w, screen_h = self.width * self.scale, self.height * self.scale
        body_w = screen_w + 2 * MARGIN
        body_h = screen_h + 2 * MARGIN + 120
        canvas = tk.Canvas(self.root, width=body_w, height=body_h, background="#101214", highlightthickness=0)
        canvas.pack(padx=12, pady=(12, 4))
        _rounded(canvas, 2, 2, body_w - 2, body_h - 2, 36, fill=BODY, outline=BODY_EDGE, width=2)
        canvas.create_rectangle(
            MARGIN - 6, MARGIN - 6, MARGIN + screen_w + 6, MARGIN + screen_h + 6, fill="#000000", outline="#000000"
        )
        self.image = tk.PhotoImage(width=screen_w, height=screen_h)
        self.image.put(_hex(screen.OFF), to=(0, 0, screen_w, screen_h))
        self._native = tk.PhotoImage(width=self.width, height=self.height)  # one pixel per display pixel
        canvas.create_image(MARGIN, MARGIN, image=self.image, anchor="nw")
        centre_x, centre_y = body_w // 2, MARGIN + screen_h + 62
        button = canvas.create_oval(
            centre_x - 30, centre_y - 30, centre_x + 30, centre_y + 30, fill="#5a616b", outline="#7b838e", width=3
        )
        canvas.tag_bind(button, "<ButtonPress-1>", lambda event: self._press_visual(canvas, button))
        canvas.tag_bind(button, "<ButtonRelease-1>", lambda event: canvas.itemconfigure(button, fill="#5a616b"))
        canvas.create_text(centre_x, body_h - 14, text="fobkit", fill=LABEL, font=("Helvetica", 10, "bold"))
        self.canvas = canvas
        self.button = button
        self.hint = tk.Label(self.root, text=HINT, anchor="w", foreground=LABEL, background="#101214")
        self.hint.pack(fill="x", padx=12)
        self.status = tk.Label(self.root, text="", anchor="w", foreground=LABEL, background="#101214")
        self.status.pack(fill="x", padx=12, pady=(0, 10))

    def _press_visual(self, canvas, button):
        canvas.itemconfigure(button, fill="#48505a")
        self._on_press()

    def display_origin(self):
        """Screen coordinates of the display's top-left pixel (for screenshots in tests)."""
        return self.canvas.winfo_rootx() + MARGIN, self.canvas.winfo_rooty() + MARGIN

    def button_centre(self):
        coords = self.canvas.coords(self.button)
        return (
            self.canvas.winfo_rootx() + int((coords[0] + coords[2]) / 2),
            self.canvas.winfo_rooty() + int((coords[1] + coords[3]) / 2),
        )

    # -- called from the firmware's thread ------------------------------------
    def post_frame(self, rows):
        with self._lock:
            self._frame = rows
        self._wake()

    def post_status(self, text):
        with self._lock:
            self._status = text
        self._wake()

    def _wake(self):
        try:
            os.write(self._wake_write, b"w")
        except BlockingIOError:  # already full of wake-ups: Tk will drain them
            pass

    # -- Tk's thread -------------------------------------------------------------
    def _drain(self, fd, mask):
        os.read(fd, 4096)  # frames, status, or a signal's byte: Python's handlers run after this returns
        with self._lock:
            frame, self._frame = self._frame, None
            status = self._status
        if frame is not None:
            self._draw(frame)
        self.status.configure(text=status)

    def _draw(self, rows):
        """Put the pixels at native size, then let Tk scale them up (16x fewer pixels cross over)."""
        on, off = _hex(screen.ON), _hex(screen.OFF)
        self._native.put(" ".join("{" + " ".join(on if v else off for v in row) + "}" for row in rows))
        self.image.tk.call(self.image, "copy", self._native, "-zoom", self.scale, self.scale)

    def run(self):
        self.root.mainloop()

    def close(self):
        self.root.quit()


def _rounded(canvas, x1, y1, x2, y2, r, **options):
    points = [x1 + r, y1, x2 - r, y1, x2, y1, x2, y1 + r, x2, y2 - r, x2, y2]
    points += [x2 - r, y2, x1 + r, y2, x1, y2, x1, y2 - r, x1, y1 + r, x1, y1]
    return canvas.create_polygon(points, smooth=True, **options)
