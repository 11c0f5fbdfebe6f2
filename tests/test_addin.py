"""``clvxl install-addin``: the add-in written as its VBA reads it, into a Windows and a
macOS home, and the check that says what is missing."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import xlwings

from clvxl.cli import main
from clvxl.errors import InputError
from clvxl.excel import ADDIN, installer


def ok(command, **kwargs):
    """Stands in for running the interpreter: it imports clvxl."""
    assert command[1:] == ["-c", "import clvxl_addin, udfs"]
    return subprocess.CompletedProcess(command, 0)


def test_the_shipped_addin_is_the_quickstart_with_the_clv_ribbon():
    with zipfile.ZipFile(ADDIN) as z:
        assert z.testzip() is None
        workbook = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        strings = z.read("xl/sharedStrings.xml").decode()
        assert "xl/vbaProject.bin" in z.namelist()
    assert 'name="_myaddin.conf"' in workbook  # inactive until install-addin
    assert 'relationships/vbaProject" Target="vbaProject.bin"' in rels
    for key in installer.CONF_ROWS:  # the keys the VBA's GetConfig looks up
        assert f"<t>{key}</t>" in strings
    assert xlwings.__version__ == installer.ADDIN_XLWINGS_VERSION


def test_the_pinned_xlwings_is_the_addins():
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert f'excel = ["xlwings=={installer.ADDIN_XLWINGS_VERSION}"]' in pyproject


@pytest.mark.parametrize("platform", ["windows", "macos"])
def test_install_into_a_home_configures_and_checks(platform, tmp_path):
    python = tmp_path / "py" / "python"
    python.parent.mkdir()
    python.write_text("")
    target = installer.target_for(platform, tmp_path / "home", python=python)
    lines = installer.install(ADDIN, target, run=ok)
    assert lines[0] == f"Installed {target.addin}"
    assert lines[-1] == "  checked: nothing missing"
    sheet, values = installer.read_conf(target.addin)
    assert sheet == "myaddin.conf"
    key = "Interpreter_Win" if platform == "windows" else "Interpreter_Mac"
    assert values == {key: str(python), "UDF Modules": "udfs"}
    with zipfile.ZipFile(target.addin) as z, zipfile.ZipFile(ADDIN) as shipped:
        assert z.testzip() is None
        assert z.read("xl/vbaProject.bin") == shipped.read("xl/vbaProject.bin")
        assert z.read("customUI/customUI.xml") == shipped.read("customUI/customUI.xml")
    if platform == "windows":
        assert target.addin.parent.parts[-3:] == ("Microsoft", "Excel", "XLSTART")
    else:
        script = target.scripts / f"xlwings-{installer.ADDIN_XLWINGS_VERSION}.applescript"
        assert script.exists() and "com.microsoft.Excel" in str(script)
        assert "UBF8T346G9.Office/User Content/Startup/Excel" in str(target.addin)


def test_windows_runs_pythonw_when_there_is_one(tmp_path):
    (tmp_path / "python.exe").write_text("")
    (tmp_path / "pythonw.exe").write_text("")
    target = installer.target_for("windows", tmp_path, python=tmp_path / "python.exe")
    assert target.interpreter == tmp_path / "pythonw.exe"


def test_check_says_what_is_missing(tmp_path):
    target = installer.target_for("macos", tmp_path, python=Path(sys.executable))
    found = installer.problems(target, run=ok)
    assert any("not in Excel's start-up folder" in p for p in found)
    assert any("AppleScript xlwings-0.37.8.applescript" in p for p in found)
    target.addin.parent.mkdir(parents=True)
    target.addin.write_bytes(ADDIN.read_bytes())  # copied by hand, not configured
    found = installer.problems(target, run=ok)
    assert "the add-in's settings sheet is not active: run clvxl install-addin again" in found
    assert any(
        "no Interpreter_Mac: the button would run whatever python is on PATH" in p for p in found
    )


def test_an_interpreter_without_clvxl_is_refused(tmp_path):
    target = installer.target_for("windows", tmp_path, python=tmp_path / "python.exe")
    with pytest.raises(Exception, match="cannot import clvxl_addin"):
        installer.install(ADDIN, target, run=lambda c, **k: subprocess.CompletedProcess(c, 1))
    assert not target.addin.exists()


def test_command_line_install_and_check(tmp_path, capsys):
    home = tmp_path / "home"
    assert main(["install-addin", "--platform", "macos", "--home", str(home), "--check"]) == 1
    assert "missing: the add-in is not in Excel's start-up folder" in capsys.readouterr().out
    assert main(["install-addin", "--platform", "macos", "--home", str(home)]) == 0
    out = capsys.readouterr().out
    assert "settings sheet myaddin.conf active" in out and "checked: nothing missing" in out
    assert main(["install-addin", "--platform", "macos", "--home", str(home), "--check"]) == 0
    assert "The add-in is ready." in capsys.readouterr().out


class FakeExcel:
    """Stands in for the xlwings module on Windows: records what Excel was asked to do."""

    def __init__(self, refuse: str | None = None):
        self.calls, self.refuse = [], refuse
        self.udfs = self  # xlwings.udfs.import_udfs

    def App(self, visible, add_book):  # xlwings.App
        self.calls.append(("App", visible, add_book))
        return self

    @property
    def books(self):
        return self

    def open(self, path):
        self.calls.append(("open", path))
        return self

    @property
    def api(self):
        return "the add-in's COM object"

    def import_udfs(self, modules, xl_workbook):
        if self.refuse:
            raise Exception(self.refuse)
        self.calls.append(("import_udfs", modules, xl_workbook))

    def save(self):
        self.calls.append(("save",))

    def quit(self):
        self.calls.append(("quit",))


def _installed_windows(tmp_path):
    python = tmp_path / "python.exe"
    python.write_text("")
    target = installer.target_for("windows", tmp_path / "home", python=python)
    installer.install(ADDIN, target, run=ok)
    return target


def test_functions_are_imported_into_the_installed_addin_by_xlwings_own_import(tmp_path):
    target = _installed_windows(tmp_path)
    excel = FakeExcel()
    lines = installer.import_functions(target, excel)
    assert excel.calls == [
        ("App", False, False),
        ("open", str(target.addin)),
        ("import_udfs", "udfs", "the add-in's COM object"),
        ("save",),
        ("quit",),
    ]
    assert lines == [
        f"  functions imported into {target.addin} (module xlwings_udfs): =CLV() and the rest"
    ]


def test_functions_without_vba_trust_say_which_box_to_tick_and_excel_quits(tmp_path):
    target = _installed_windows(tmp_path)
    excel = FakeExcel(
        refuse="(-2147352567, 'Exception occurred.', (0, 'Microsoft Excel', "
        "'Programmatic access to Visual Basic Project is not trusted\\n', None))"
    )
    with pytest.raises(InputError) as caught:
        installer.import_functions(target, excel)
    assert str(caught.value) == (
        "Excel does not let programs write VBA yet: tick File > Options > Trust Center > "
        "Trust Center Settings > Macro Settings > Trust access to the VBA project object "
        "model, then run clvxl install-addin --functions again"
    )
    assert excel.calls[-1] == ("quit",) and ("save",) not in excel.calls


def test_functions_are_refused_on_macos_and_before_the_addin_is_installed(tmp_path):
    mac = installer.target_for("macos", tmp_path, python=Path(sys.executable))
    with pytest.raises(InputError, match="on Windows only; on macOS use xlwings Lite"):
        installer.import_functions(mac, FakeExcel())
    windows = installer.target_for("windows", tmp_path, python=Path(sys.executable))
    with pytest.raises(InputError, match="run clvxl install-addin first"):
        installer.import_functions(windows, FakeExcel())
