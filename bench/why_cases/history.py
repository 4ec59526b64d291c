"""Histories of several commits: a small project, harmless commits, one commit that breaks it."""

from __future__ import annotations

from dataclasses import dataclass

from why_cases.project import Project

CONFTEST = (
    '"""Put the project on sys.path (flat layout, or src/ layout)."""\n\n'
    "import pathlib\nimport sys\n\n"
    "ROOT = pathlib.Path(__file__).parents[1]\n"
    "sys.path.insert(0, str(ROOT / 'src' if (ROOT / 'src').is_dir() else ROOT))\n"
)


def tests_config(extra: str = "", coverage: str = "null") -> str:
    """suture.yml with only the tests gate."""
    return (
        "version: 1\n"
        "gates:\n"
        "  tests:\n"
        "    paths: [tests]\n"
        f"    min_coverage: {coverage}\n"
        "    ratchet: false\n" + extra
    )


@dataclass(frozen=True)
class Bug:
    """The culprit's edit: replace `old` with `new` in `path`."""

    path: str
    old: str
    new: str
    message: str


@dataclass(frozen=True)
class Module:
    """A small project: its files, and the file harmless commits grow with helpers."""

    files: dict[str, str]
    grow: str  # fillers append helper functions here (never touching the broken code)


class History:
    """Writes a project, then commits harmless changes and the culprit in a chosen order."""

    def __init__(self, project: Project, module: Module) -> None:
        self.p = project
        self.texts = dict(module.files)
        self.grow = module.grow
        self.helpers = 0

    def start(self, message: str = "project with tests") -> str:
        """The first commit: every file of the module."""
        for path, text in self.texts.items():
            self.p.write(path, text)
        return self.p.commit(message)

    def filler(self, i: int) -> str:
        """A harmless commit; which kind rotates: a helper, a note, a new module."""
        kind = i % 3
        if kind == 0:
            self.helpers += 1
            k = self.helpers
            self.edit(self.grow, self.texts[self.grow] + (
                f'\n\ndef helper_{k}(x: int) -> int:\n    """Offset by {k}."""\n'
                f"    return x + {k}\n"))
            return self.p.commit(f"add helper_{k} to {self.grow}")
        if kind == 1:
            self.p.write(f"docs/note_{i}.md", f"# Note {i}\n\nNothing that runs.\n")
            return self.p.commit(f"docs: note {i}")
        self.p.write(f"tools/misc_{i}.py", f'"""Tool {i}."""\n\nVALUE_{i} = {i}\n')
        return self.p.commit(f"tools: misc_{i}")

    def edit(self, path: str, text: str) -> None:
        """Change a file's text and write it."""
        self.texts[path] = text
        self.p.write(path, text)

    def apply(self, bug: Bug) -> str:
        """The culprit commit."""
        before = self.texts[bug.path]
        if bug.old not in before:
            raise ValueError(f"bench bug: {bug.old!r} not in {bug.path}")
        self.edit(bug.path, before.replace(bug.old, bug.new))
        return self.p.commit(bug.message)

    def commits(self, n: int, culprit_at: int, bug: Bug) -> str:
        """n commits, the culprit_at-th (1-based) being `bug`; returns the culprit's sha."""
        culprit = ""
        for i in range(1, n + 1):
            if i == culprit_at:
                culprit = self.apply(bug)
            else:
                self.filler(i)
        return culprit


CALC = '''\
"""Arithmetic."""


def add(a: int, b: int) -> int:
    """Add."""
    return a + b


def mul(a: int, b: int) -> int:
    """Multiply."""
    return a * b
'''
CALC_TESTS = '''\
from calc import add, mul


def test_add():
    assert add(2, 2) == 4


def test_mul():
    assert mul(2, 3) == 6
'''


def calc_module(config: str | None = None) -> Module:
    """Flat layout: calc.py and tests/test_calc.py."""
    return Module(files={"suture.yml": config or tests_config(), "calc.py": CALC,
                         "tests/conftest.py": CONFTEST, "tests/test_calc.py": CALC_TESTS},
                  grow="calc.py")


DOSAGE = '''\
"""Weight-based dosing."""


def dose_mg(weight_kg: float, mg_per_kg: float, max_mg: float = 4000.0) -> float:
    """The dose for a patient, capped at max_mg."""
    return min(weight_kg * mg_per_kg, max_mg)
'''
DOSAGE_TESTS = '''\
from clinic.dosage import dose_mg


def test_adult_dose():
    assert dose_mg(70, 10) == 700


def test_cap():
    assert dose_mg(500, 10) == 4000
'''


def dosage_module() -> Module:
    """src layout: src/clinic/dosage.py."""
    return Module(files={"suture.yml": tests_config(), "src/clinic/__init__.py": "",
                         "src/clinic/dosage.py": DOSAGE, "tests/conftest.py": CONFTEST,
                         "tests/test_dosage.py": DOSAGE_TESTS},
                  grow="src/clinic/dosage.py")


RATES = '''\
"""Tariffs."""

RATES = {"visit": 120, "lab": 45}


def rate(item: str) -> int:
    """The price of one item."""
    return RATES[item]
'''
BILLING = '''\
"""Invoices."""

from rates import rate


def total(items: list[str]) -> int:
    """The sum of the items' prices."""
    return sum(rate(i) for i in items)
'''
BILLING_TESTS = '''\
from billing import total


def test_total():
    assert total(["visit", "lab"]) == 165


def test_empty():
    assert total([]) == 0
'''


def billing_module() -> Module:
    """Two modules: the test calls billing, the bug lives in rates."""
    return Module(files={"suture.yml": tests_config(), "rates.py": RATES, "billing.py": BILLING,
                         "tests/conftest.py": CONFTEST, "tests/test_billing.py": BILLING_TESTS},
                  grow="billing.py")


UNITS = '''\
"""Lab unit conversions."""


def glucose_mmol(mg_dl: float) -> float:
    """Glucose mg/dL to mmol/L."""
    return round(mg_dl / 18.0, 2)


def glucose_mg(mmol: float) -> float:
    """Glucose mmol/L to mg/dL."""
    return round(mmol * 18.0, 1)
'''
UNITS_TESTS = '''\
from app.units import glucose_mg, glucose_mmol


def test_glucose_mmol():
    assert glucose_mmol(90) == 5.0


def test_round_trip():
    assert glucose_mg(glucose_mmol(180)) == 180.0


def test_mg():
    assert glucose_mg(5) == 90.0
'''


def units_module() -> Module:
    """A package folder: app/units.py."""
    return Module(files={"suture.yml": tests_config(), "app/__init__.py": "",
                         "app/units.py": UNITS, "tests/conftest.py": CONFTEST,
                         "tests/test_units.py": UNITS_TESTS},
                  grow="app/units.py")
