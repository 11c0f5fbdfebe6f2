"""Render a workbook's sheets to PNG with LibreOffice headless, to look at them.

    python scripts/render_workbook.py clvxl/excel/templates/clvxl-template.xlsx -o docs/images

Writes ``<stem>.pdf`` (one page per sheet) and ``<stem>-<page>.png``; the README's
Dashboard picture is page 1 of the template. Needs ``soffice`` and ``pdftoppm``
(Debian: libreoffice-calc-nogui, poppler-utils).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

EXPORT = 'pdf:calc_pdf_Export:{"SinglePageSheets":{"type":"boolean","value":"true"}}'


def render_pdf(workbook: Path, folder: Path) -> Path:
    """Workbook → PDF with one page per sheet, in ``folder``."""
    if shutil.which("soffice") is None:
        raise RuntimeError("soffice (LibreOffice) is not installed")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                "soffice",
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--convert-to",
                EXPORT,
                "--outdir",
                str(folder),
                str(workbook),
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return folder / f"{workbook.stem}.pdf"


def render_png(
    pdf: Path, folder: Path, first: int = 1, last: int | None = None, dpi: int = 80
) -> list[Path]:
    """PDF pages → PNG files."""
    args = ["pdftoppm", "-png", "-r", str(dpi), "-f", str(first)] + (
        ["-l", str(last)] if last else []
    )
    subprocess.run([*args, str(pdf), str(folder / pdf.stem)], check=True, timeout=300)
    return sorted(folder.glob(f"{pdf.stem}-*.png"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workbook", type=Path)
    parser.add_argument("-o", "--output", type=Path, default=Path("."))
    parser.add_argument(
        "--pages", default="1", help="first-last pages to render, e.g. 1-3 (default 1)"
    )
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)
    first, _, last = args.pages.partition("-")
    pdf = render_pdf(args.workbook, args.output)
    for png in render_png(pdf, args.output, int(first), int(last or first)):
        print(png)


if __name__ == "__main__":
    main()
