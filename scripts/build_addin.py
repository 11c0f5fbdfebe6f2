"""Build clvxl/excel/templates/clvxl_addin.xlam from xlwings' own quickstart ribbon add-in.

    python scripts/build_addin.py

Runs ``xlwings quickstart clvxl_addin --addin --ribbon`` in a temporary folder (so the
VBA is xlwings' own, unchanged), then edits two parts of the zip as text: the ribbon
(``customUI/customUI.xml``: a "CLV" tab with "Recalculate customers", calling the
template's ``RunMain``, which runs ``clvxl_addin.main()``) and the add-in's config sheet
(``UDF Modules = udfs``). Zip entries get a fixed date so rebuilding gives the same file.
The xlwings installed must be :data:`clvxl.excel.installer.ADDIN_XLWINGS_VERSION`: the
add-in carries that version's VBA, and ``clvxl install-addin`` checks the Python side
against it.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "clvxl" / "excel" / "templates" / "clvxl_addin.xlam"

RIBBON = """<customUI xmlns="http://schemas.microsoft.com/office/2006/01/customui">
    <ribbon>
        <tabs>
            <tab id="clvTab" label="CLV">
                <group id="clvCustomers" label="Customers">
                    <button id="recalculateCustomers" label="Recalculate customers" size="large"
                            screentip="Rebuild Customers, Dashboard, Analysis and Model from the Transactions table"
                            onAction="RibbonMyAddin.RunMain" imageMso="CalculateNow" />
                </group>
            </tab>
        </tabs>
    </ribbon>
</customUI>"""


def udf_modules(sheet_xml: str) -> str:
    """Fill the config sheet's "UDF Modules" row (shared string 1) with ``udfs``."""
    row = re.search(r'<row r="6"[^>]*>.*?</row>', sheet_xml, re.S).group(0)
    assert "<v>1</v>" in row, "the quickstart's config sheet changed: UDF Modules is not on row 6"
    filled = row.replace('spans="1:1"', 'spans="1:2"').replace(
        "</row>", '<c r="B6" s="1" t="inlineStr"><is><t>udfs</t></is></c></row>'
    )
    return sheet_xml.replace(row, filled)


def main() -> None:
    import xlwings

    from clvxl.excel.installer import ADDIN_XLWINGS_VERSION

    if xlwings.__version__ != ADDIN_XLWINGS_VERSION:
        sys.exit(
            f"xlwings {xlwings.__version__} is installed; the add-in is built from xlwings "
            f"{ADDIN_XLWINGS_VERSION} (change ADDIN_XLWINGS_VERSION and the pins together)"
        )
    with tempfile.TemporaryDirectory() as tmp:
        xlwings = Path(sys.executable).with_name("xlwings")
        subprocess.run(
            [str(xlwings), "quickstart", "clvxl_addin", "--addin", "--ribbon"], cwd=tmp, check=True
        )
        source = Path(tmp) / "clvxl_addin" / "clvxl_addin.xlam"
        OUT.parent.mkdir(exist_ok=True)
        with (
            zipfile.ZipFile(source) as zin,
            zipfile.ZipFile(OUT, "w", zipfile.ZIP_DEFLATED) as zout,
        ):
            for info in zin.infolist():
                data = zin.read(info)
                if info.filename == "customUI/customUI.xml":
                    data = RIBBON.encode()
                elif info.filename == "xl/worksheets/sheet1.xml":
                    data = udf_modules(data.decode()).encode()
                entry = zipfile.ZipInfo(info.filename, date_time=(2024, 1, 1, 0, 0, 0))
                entry.compress_type = zipfile.ZIP_DEFLATED
                zout.writestr(entry, data)
    print(f"add-in written to {OUT}")


if __name__ == "__main__":
    main()
