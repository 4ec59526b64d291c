"""Measure the phi scanner on labelled synthetic clinical text (Faker, fixed seed).

Each document is built piece by piece, so the exact span of every inserted identifier is known:
progress notes, discharge summaries, HL7 v2 messages, FHIR Patient JSON, service log lines,
CSV extracts and SQL seeds, with plenty of clinical text that is not PHI and decoys that look
like PHI and are not (555-01xx numbers, invalid SSNs, Luhn-failing cards and NPIs, test card
numbers, example.org emails, private IPs, versions, UUIDs, git shas, ISO timestamps in logs).
Printed: per-kind and overall precision / recall (a hit counts when it overlaps a labelled span;
per kind the kinds must agree, overall any kind will do), misses and false alarms by kind with a
few masked examples, and throughput in MB/s on the corpus and on one ~20 MB file.

    .venv/bin/python bench/phi_corpus.py                 # 2,000 documents + a 20 MB file
    .venv/bin/python bench/phi_corpus.py --docs 500 --big-mb 5 --examples 5
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from faker import Faker

from suture.gates.phi_scan import DEFAULT_KINDS, Hit, PhiKind, mask, scan

SEED = 20240506


@dataclass
class Doc:
    """A generated document and the labelled spans of the identifiers in it."""

    text: str
    spans: list[tuple[PhiKind, int, int]]
    layout: str = ""
    template: str = ""


@dataclass
class Builder:
    """Appends text; `phi` appends an identifier and records where it went."""

    parts: list[str] = field(default_factory=list)
    spans: list[tuple[PhiKind, int, int]] = field(default_factory=list)
    size: int = 0

    def add(self, text: str) -> Builder:
        """Append text that holds no identifier."""
        self.parts.append(text)
        self.size += len(text)
        return self

    def phi(self, kind: PhiKind, value: str) -> Builder:
        """Append an identifier of `kind`."""
        self.spans.append((kind, self.size, self.size + len(value)))
        return self.add(value)

    def doc(self, layout: str = "", template: str = "") -> Doc:
        """The finished document."""
        return Doc("".join(self.parts), self.spans, layout, template)


class Gen:
    """Synthetic identifiers, real-looking (valid check digits, dialable numbers) and decoys."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        Faker.seed(seed)
        self.fake = Faker("en_US")

    def pick(self, items: list[str]) -> str:
        """One of `items`."""
        return self.rng.choice(items)

    def phone(self) -> str:
        """A valid NANP number in one of the common spellings."""
        r = self.rng
        npa = f"{r.randint(2, 9)}{r.randint(0, 9)}{r.randint(2, 9)}"
        nxx = f"{r.randint(2, 9)}{r.randint(0, 9)}{r.randint(2, 9)}"
        line = f"{r.randint(0, 9999):04d}"
        return r.choice([f"({npa}) {nxx}-{line}", f"{npa}-{nxx}-{line}", f"{npa}.{nxx}.{line}",
                         f"+1 {npa} {nxx} {line}", f"({npa}){nxx}-{line}"])

    def fictional_phone(self) -> str:
        """555-0100 to 555-0199: reserved for fiction."""
        return f"({self.rng.randint(201, 989)}) 555-01{self.rng.randint(0, 99):02d}"

    def ssn(self) -> str:
        """An SSN the SSA could issue."""
        return self.fake.ssn()

    def bad_ssn(self) -> str:
        """Looks like an SSN, breaks a rule: area 000/666/9xx, group 00 or serial 0000."""
        r = self.rng
        return r.choice([f"000-{r.randint(10, 99)}-{r.randint(1000, 9999)}",
                         f"666-{r.randint(10, 99)}-{r.randint(1000, 9999)}",
                         f"9{r.randint(10, 99)}-{r.randint(10, 99)}-{r.randint(1000, 9999)}",
                         f"{r.randint(100, 599)}-00-{r.randint(1000, 9999)}",
                         f"{r.randint(100, 599)}-{r.randint(10, 99)}-0000"])

    def npi(self, valid: bool = True) -> str:
        """A 10-digit NPI whose check digit holds (or, for a decoy, does not)."""
        body = "1" + "".join(str(self.rng.randint(0, 9)) for _ in range(8))
        check = _luhn_digit("80840" + body)
        return body + str(check if valid else (check + 1 + self.rng.randint(0, 8)) % 10)

    def card(self, valid: bool = True) -> str:
        """A card number of a major network, grouped or not; a decoy fails Luhn."""
        number = self.fake.credit_card_number(
            card_type=self.pick(["visa16", "mastercard", "discover", "amex"]))
        if not valid:
            number = number[:-1] + str((int(number[-1]) + 1 + self.rng.randint(0, 8)) % 10)
        if len(number) == 16 and self.rng.random() < 0.6:
            return " ".join(number[i:i + 4] for i in range(0, 16, 4))
        return number

    def mrn(self) -> str:
        """A medical record number in a few hospital formats."""
        return self.fake.bothify(self.pick(["########", "MRN-#######", "??#######", "E######"]),
                                 letters="ABCDEFGHJKLMNPRSTUVWXYZ")

    def member(self) -> str:
        """A health plan member id."""
        return self.fake.bothify("???#########", letters="ABCDEFGHJKLMNPRSTUVWXYZ")

    def date(self, start: int = 1930, end: int = 2024) -> tuple[int, int, int]:
        """A random calendar date."""
        y, m = self.rng.randint(start, end), self.rng.randint(1, 12)
        return y, m, self.rng.randint(1, 28)

    def spell(self, ymd: tuple[int, int, int]) -> str:
        """A date in one of the spellings notes use."""
        y, m, d = ymd
        months = ["January", "February", "March", "April", "May", "June", "July", "August",
                  "September", "October", "November", "December"]
        return self.rng.choice([f"{y}-{m:02d}-{d:02d}", f"{m:02d}/{d:02d}/{y}", f"{m}/{d}/{y}",
                                f"{months[m - 1]} {d}, {y}", f"{d} {months[m - 1][:3]} {y}"])

    def ip(self) -> str:
        """A public IPv4 address."""
        return self.fake.ipv4_public()

    def email(self) -> str:
        """A personal or work address at a real-looking domain."""
        return self.fake.free_email() if self.rng.random() < 0.7 else self.fake.company_email()

    def name(self) -> tuple[str, str]:
        """(first, last)."""
        return self.fake.first_name(), self.fake.last_name()


def _luhn_digit(digits: str) -> int:
    total = 0
    for index, char in enumerate(reversed(digits)):
        n = int(char)
        if index % 2 == 0:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return (10 - total % 10) % 10


# --- text that is not PHI -------------------------------------------------------------------

COMPLAINTS = ["chest pain radiating to the left arm", "shortness of breath on exertion",
              "three days of productive cough", "intermittent epigastric pain",
              "worsening bilateral knee pain", "new-onset palpitations", "dizziness on standing",
              "polyuria and polydipsia", "a rash on the forearms", "low back pain after lifting"]
FINDINGS = ["BP 128/82, HR 76, RR 16, Temp 98.6 F, SpO2 97% on RA.",
            "BP 142/91, HR 88, Temp 37.2 C, SpO2 95% on 2L NC.",
            "Labs: Na 139, K 4.1, Cl 101, HCO3 24, BUN 18, Cr 0.9, Glu 142, HbA1c 7.2%.",
            "WBC 11.2, Hgb 13.1, Plt 245. Troponin I < 0.01 ng/mL x2.",
            "ECG: sinus rhythm at 72 bpm, QTc 438 ms, no acute ST changes.",
            "CXR: no focal consolidation. CT abdomen 2.3 cm simple cyst, unchanged.",
            "LDL 131 mg/dL, HDL 42 mg/dL, TG 180 mg/dL (LOINC 13457-7)."]
PLANS = ["Start metformin 500 mg PO BID; recheck HbA1c in 3 months.",
         "Continue lisinopril 10 mg daily, add amlodipine 5 mg daily.",
         "Albuterol 90 mcg 2 puffs q4-6h PRN; azithromycin 500 mg day 1 then 250 mg x4 days.",
         "Refer to cardiology; stress test ordered (CPT 93015). ICD-10 I20.9.",
         "PT 2x/week for 6 weeks; ibuprofen 400 mg q8h PRN with food. ICD-10 M54.50.",
         "Diet and exercise counselling; follow up in 2 weeks, sooner if symptoms worsen.",
         "Vaccines: influenza given (lot 4471, exp 2025-06). Tdap up to date."]
SEXES = ["male", "female"]


def decoy_line(g: Gen) -> str:
    """A line that looks like it might hold PHI and does not."""
    r = g.rng
    return r.choice([
        f"Build v{r.randint(1, 9)}.{r.randint(0, 30)}.{r.randint(0, 99)} deployed from commit "
        f"{r.getrandbits(160):040x}",
        f"request_id={g.fake.uuid4()} trace={r.getrandbits(64):016x} status=200",
        f"{2024}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}T{r.randint(0, 23):02d}:"
        f"{r.randint(0, 59):02d}:{r.randint(0, 59):02d}Z INFO worker heartbeat ok",
        f"tests/test_patients.py::test_create[case-{r.randint(1, 999)}] PASSED",
        f"Fictional contact for the demo: {g.fictional_phone()}, {g.fake.safe_email()}",
        f"Validation sample: SSN {g.bad_ssn()} must be rejected",
        f"Card {g.card(valid=False)} failed the checksum test",
        "Stripe test card 4242 4242 4242 4242 accepted in sandbox",
        f"npi: {g.npi(valid=False)} rejected (bad check digit)",
        f"Connecting to db at 10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}:5432",
        f"pip install fastapi=={r.randint(0, 1)}.{r.randint(90, 115)}.{r.randint(0, 9)} "
        f"uvicorn=={r.randint(0, 1)}.{r.randint(20, 30)}.0",
        f"Guideline revised 2023-0{r.randint(1, 9)}-1{r.randint(0, 9)}; dose 2.5 mg/kg/day",
        f"Room {r.randint(100, 899)}, bed {r.choice('AB')}; order #{r.randint(10000, 99999)}",
        f"Patient was stable overnight; ambulating {r.randint(50, 300)} ft with walker",
    ])


# --- templates ------------------------------------------------------------------------------

def progress_note(g: Gen) -> Doc:
    """A SOAP progress note with a header of identifiers and a body of clinical prose."""
    first, last = g.name()
    b = Builder().add("PROGRESS NOTE\nPatient: ").phi(PhiKind.NAME, f"{first} {last}")
    b.add("    MRN: ").phi(PhiKind.MRN, g.mrn()).add("    DOB: ")
    b.phi(PhiKind.DOB, g.spell(g.date(1930, 2010))).add("\nDate of service: ")
    b.phi(PhiKind.DATE, g.spell(g.date(2020, 2024))).add("\n\n")
    b.add(f"S: {g.rng.randint(18, 89)}-year-old {g.pick(SEXES)} presents with "
          f"{g.pick(COMPLAINTS)}. ")
    b.add("Mr. " if g.rng.random() < 0.5 else "Ms. ").phi(PhiKind.NAME, last)
    b.add(" reports symptoms started last week.\nO: " + g.pick(FINDINGS) + " "
          + g.pick(FINDINGS) + "\nA/P: " + g.pick(PLANS) + "\n")
    if g.rng.random() < 0.5:
        b.add("Best contact number: ").phi(PhiKind.PHONE, g.phone()).add(". ")
    if g.rng.random() < 0.4:
        b.add("Daughter can be reached at ").phi(PhiKind.PHONE, g.phone()).add(".")
    b.add("\n" + decoy_line(g) + "\n")
    b.add(f"Electronically signed by Dr. {g.fake.last_name()}, NPI: ")
    b.phi(PhiKind.NPI, g.npi()).add("\n")
    return b.doc(template="progress")


def discharge_summary(g: Gen) -> Doc:
    """A discharge summary with demographics, insurance and a hospital course."""
    first, last = g.name()
    b = Builder().add("DISCHARGE SUMMARY\n\nName: ").phi(PhiKind.NAME, f"{last}, {first}")
    b.add("\nMedical Record Number: ").phi(PhiKind.MRN, g.mrn())
    b.add("\nDate of Birth: ").phi(PhiKind.DOB, g.spell(g.date(1930, 2010)))
    b.add("\nAdmission Date: ").phi(PhiKind.DATE, g.spell(g.date(2022, 2024)))
    b.add("\nDischarge Date: ").phi(PhiKind.DATE, g.spell(g.date(2022, 2024)))
    b.add("\nAddress: ").phi(PhiKind.ADDRESS, g.fake.street_address()).add(", ")
    b.phi(PhiKind.ADDRESS, g.fake.city()).add(f", {g.fake.state_abbr()} ")
    b.phi(PhiKind.ZIP, g.fake.zipcode()).add("\nHome phone: ").phi(PhiKind.PHONE, g.phone())
    b.add("\nSSN: ").phi(PhiKind.SSN, g.ssn())
    b.add("\nInsurance member ID: ").phi(PhiKind.ACCOUNT, g.member())
    b.add("\nEmail: ").phi(PhiKind.EMAIL, g.email())
    b.add("\n\nHOSPITAL COURSE:\n" + g.pick(COMPLAINTS).capitalize() + " on arrival. "
          + g.pick(FINDINGS) + " " + g.pick(PLANS) + "\n" + decoy_line(g) + "\n")
    b.add("Follow-up appointment on ").phi(PhiKind.DATE, g.spell(g.date(2024, 2025)))
    b.add(" with primary care.\nEmergency contact: ")
    b.phi(PhiKind.NAME, " ".join(g.name())).add(" ").phi(PhiKind.PHONE, g.phone()).add("\n")
    if g.rng.random() < 0.3:
        b.add("Payment card on file: ").phi(PhiKind.CARD, g.card()).add("\n")
    return b.doc(template="discharge")


def hl7_message(g: Gen) -> Doc:
    """An HL7 v2 ADT message; PID carries the identifiers."""
    first, last = g.name()
    y, m, d = g.date(1930, 2010)
    b = Builder().add(f"MSH|^~\\&|EPIC|GENHOSP|LAB|GENHOSP|2024{g.rng.randint(1, 12):02d}"
                      f"{g.rng.randint(10, 28)}120000||ADT^A01|MSG{g.rng.randint(10000, 99999)}"
                      "|P|2.5\rEVN|A01|20240506120000\rPID|1||")
    b.phi(PhiKind.MRN, g.mrn()).add("^^^GENHOSP^MR||")
    b.phi(PhiKind.NAME, f"{last.upper()}^{first.upper()}^{g.fake.random_uppercase_letter()}")
    b.add("||").phi(PhiKind.DOB, f"{y}{m:02d}{d:02d}").add(f"|{g.pick(['M', 'F'])}|||")
    b.phi(PhiKind.ADDRESS, f"{g.fake.street_address().upper()}^^{g.fake.city().upper()}"
                           f"^{g.fake.state_abbr()}^{g.fake.zipcode()}")
    b.add("||").phi(PhiKind.PHONE, g.phone()).add("|||||").phi(PhiKind.ACCOUNT, g.member())
    b.add("|").phi(PhiKind.SSN, g.ssn()).add(
        f"\rPV1|1|I|4W^{g.rng.randint(400, 499)}^A|||||||MED||||1|||||V{g.rng.randint(1000, 9999)}"
        "\rOBX|1|NM|2345-7^Glucose^LN||142|mg/dL|70-99|H|||F\n")
    return b.doc(template="hl7")


def fhir_patient(g: Gen) -> Doc:
    """A pretty-printed FHIR R4 Patient resource."""
    first, last = g.name()
    b = Builder().add('{\n  "resourceType": "Patient",\n  "id": "' + g.fake.uuid4() + '",\n'
                      '  "meta": {"versionId": "3", "lastUpdated": "2024-05-06T10:11:12Z"},\n'
                      '  "identifier": [{\n    "system": "urn:oid:2.16.840.1.113883.3.4",\n'
                      '    "type": {"coding": [{"system": '
                      '"http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},\n'
                      '    "value": "')
    b.phi(PhiKind.MRN, g.mrn()).add('"\n  }],\n  "name": [{\n    "use": "official",\n'
                                    '    "family": "')
    b.phi(PhiKind.NAME, last).add('",\n    "given": ["').phi(PhiKind.NAME, first)
    b.add('"]\n  }],\n  "telecom": [\n    {"system": "phone", "value": "')
    b.phi(PhiKind.PHONE, g.phone()).add('", "use": "home"},\n    {"system": "email", "value": "')
    b.phi(PhiKind.EMAIL, g.email()).add('"}\n  ],\n  "gender": "')
    b.add(g.pick(SEXES) + '",\n  "birthDate": "')
    y, m, d = g.date(1930, 2010)
    b.phi(PhiKind.DOB, f"{y}-{m:02d}-{d:02d}").add('",\n  "address": [{\n    "line": ["')
    b.phi(PhiKind.ADDRESS, g.fake.street_address()).add('"],\n    "city": "')
    b.phi(PhiKind.ADDRESS, g.fake.city()).add(f'",\n    "state": "{g.fake.state_abbr()}",\n'
                                              '    "postalCode": "')
    b.phi(PhiKind.ZIP, g.fake.zipcode()).add('"\n  }]\n}\n')
    return b.doc(template="fhir")


def log_lines(g: Gen) -> Doc:
    """Service logs: mostly noise, some lines leaking an identifier."""
    b = Builder()
    r = g.rng
    for _ in range(r.randint(6, 14)):
        ts = (f"2024-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}T{r.randint(0, 23):02d}:"
              f"{r.randint(0, 59):02d}:{r.randint(0, 59):02d}.{r.randint(0, 999):03d}Z")
        roll = r.random()
        if roll < 0.12:
            b.add(f"{ts} INFO api.access GET /Patient/{g.fake.uuid4()} 200 {r.randint(3, 90)}ms "
                  "client=").phi(PhiKind.IP, g.ip()).add("\n")
        elif roll < 0.2:
            b.add(f"{ts} DEBUG notify sms sent to ").phi(PhiKind.PHONE, g.phone())
            b.add(" for patient_id=").phi(PhiKind.MRN, g.mrn()).add("\n")
        elif roll < 0.26:
            b.add(f"{ts} ERROR billing charge declined card=")
            b.phi(PhiKind.CARD, g.card().replace(" ", "")).add(" code=05\n")
        elif roll < 0.32:
            b.add(f"{ts} WARN mail bounce for ").phi(PhiKind.EMAIL, g.email()).add("\n")
        elif roll < 0.36:
            b.add(f'{ts} DEBUG payload {{"patient": {{"ssn": "').phi(PhiKind.SSN, g.ssn())
            b.add('", "dob": "')
            y, m, d = g.date(1930, 2010)
            b.phi(PhiKind.DOB, f"{y}-{m:02d}-{d:02d}").add('"}}\n')
        else:
            b.add(f"{ts} " + decoy_line(g) + "\n")
    return b.doc(template="log")


def csv_extract(g: Gen) -> Doc:
    """A CSV extract: header names the columns, cells carry no label of their own."""
    b = Builder().add("patient_id,first_name,last_name,dob,phone,zip,diagnosis_code,visit_count\n")
    for _ in range(g.rng.randint(3, 8)):
        first, last = g.name()
        y, m, d = g.date(1930, 2010)
        b.phi(PhiKind.MRN, g.mrn()).add(",").phi(PhiKind.NAME, first).add(",")
        b.phi(PhiKind.NAME, last).add(",").phi(PhiKind.DOB, f"{y}-{m:02d}-{d:02d}").add(",")
        b.phi(PhiKind.PHONE, g.phone()).add(",").phi(PhiKind.ZIP, g.fake.zipcode())
        b.add(f",{g.pick(['E11.9', 'I10', 'J45.909', 'M54.50', 'F41.1'])},{g.rng.randint(1, 40)}\n")
    return b.doc(layout="csv", template="csv")


def sql_seed(g: Gen) -> Doc:
    """A SQL seed file inserting patients."""
    b = Builder().add("-- seed data\nINSERT INTO patients (mrn, given_name, family_name, "
                      "birth_date, ssn, email, status) VALUES\n")
    rows = g.rng.randint(2, 6)
    for index in range(rows):
        first, last = g.name()
        y, m, d = g.date(1930, 2010)
        b.add("  ('").phi(PhiKind.MRN, g.mrn()).add("', '").phi(PhiKind.NAME, first)
        b.add("', '").phi(PhiKind.NAME, last).add("', '")
        b.phi(PhiKind.DOB, f"{y}-{m:02d}-{d:02d}").add("', '").phi(PhiKind.SSN, g.ssn())
        b.add("', '").phi(PhiKind.EMAIL, g.email())
        b.add("', 'active')" + (",\n" if index < rows - 1 else ";\n"))
    return b.doc(layout="sql", template="sql")


def narrative(g: Gen) -> Doc:
    """Free-text nursing and social-work prose: identifiers without labels or fixed places.

    Written to read like real notes, not to suit the scanner's rules; it shows what patterns
    cannot find (unlabelled names and places, month/day dates, relatives' first names).
    """
    first, last = g.name()
    r = g.rng
    b = Builder().add("NURSING NOTE\n")
    b.phi(PhiKind.NAME, f"{first} {last}").add(f" is a {r.randint(20, 88)} y/o ")
    b.add(g.pick(SEXES) + " admitted for " + g.pick(COMPLAINTS) + ". ")
    b.add("Pt lives with spouse ").phi(PhiKind.NAME, g.fake.first_name()).add(" in ")
    b.phi(PhiKind.ADDRESS, g.fake.city()).add(". ")
    b.add("Daughter ").phi(PhiKind.NAME, " ".join(g.name())).add(" called from ")
    b.phi(PhiKind.PHONE, g.phone()).add(" asking about discharge.\n")
    b.add("Pt states she was born ").phi(PhiKind.DOB, g.spell(g.date(1930, 2000)))
    b.add(" and last saw her PCP on ").phi(PhiKind.DATE, f"{r.randint(1, 12)}/{r.randint(1, 28)}")
    b.add(". " + g.pick(FINDINGS) + "\n")
    b.add("Sent discharge instructions to ").phi(PhiKind.EMAIL, g.email())
    b.add(" per pt request. Home address on file: ")
    b.phi(PhiKind.ADDRESS, g.fake.street_address()).add(".\n")
    b.add(g.pick(PLANS) + " " + decoy_line(g) + "\n")
    b.add("Social work: pt's son ").phi(PhiKind.NAME, g.fake.first_name())
    b.add(" will drive her home; insurance ID ").phi(PhiKind.ACCOUNT, g.member()).add(".\n")
    return b.doc(template="narrative")


def clinical_prose(g: Gen) -> Doc:
    """A note with no identifiers at all: medicine, numbers and decoys only."""
    b = Builder().add("CLINICAL GUIDELINE EXCERPT\n")
    for _ in range(g.rng.randint(4, 9)):
        b.add(g.pick(FINDINGS) + " " + g.pick(PLANS) + "\n" + decoy_line(g) + "\n")
    return b.doc(template="prose")


TEMPLATES = [(progress_note, 5), (discharge_summary, 4), (hl7_message, 2), (fhir_patient, 2),
             (log_lines, 3), (csv_extract, 1), (sql_seed, 1), (narrative, 3),
             (clinical_prose, 3)]


def generate(count: int, seed: int = SEED) -> list[Doc]:
    """`count` documents, the same ones for the same seed."""
    g = Gen(seed)
    makers = [m for m, weight in TEMPLATES for _ in range(weight)]
    return [g.rng.choice(makers)(g) for _ in range(count)]


# --- scoring --------------------------------------------------------------------------------

@dataclass
class Score:
    """Counts behind precision and recall."""

    truth: Counter[str] = field(default_factory=Counter)
    found: Counter[str] = field(default_factory=Counter)  # truth spans overlapped
    predicted: Counter[str] = field(default_factory=Counter)
    correct: Counter[str] = field(default_factory=Counter)  # predictions overlapping truth
    template_truth: Counter[str] = field(default_factory=Counter)
    template_found: Counter[str] = field(default_factory=Counter)
    misses: dict[str, list[str]] = field(default_factory=dict)
    alarms: dict[str, list[str]] = field(default_factory=dict)


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def score(docs: list[Doc], results: list[list[Hit]], examples: int) -> Score:
    """Per kind (kinds must agree) and overall ("*": any kind) span-overlap matching."""
    s = Score()
    for doc, hits in zip(docs, results, strict=True):
        truth = [(k, a, b) for k, a, b in doc.spans if k in DEFAULT_KINDS]
        for kind, a, b in truth:
            same = any(h.kind is kind and _overlaps((a, b), (h.start, h.end)) for h in hits)
            anyk = any(_overlaps((a, b), (h.start, h.end)) for h in hits)
            s.truth.update([kind.value, "*"])
            s.found.update([kind.value] * same + ["*"] * anyk)
            s.template_truth[doc.template] += 1
            s.template_found[doc.template] += anyk
            if not same and len(s.misses.setdefault(kind.value, [])) < examples:
                s.misses[kind.value].append(_context(doc, a, b, kind))
        for hit in hits:
            same = any(k is hit.kind and _overlaps((a, b), (hit.start, hit.end))
                       for k, a, b in truth)
            anyk = any(_overlaps((a, b), (hit.start, hit.end)) for _, a, b in truth)
            s.predicted.update([hit.kind.value, "*"])
            s.correct.update([hit.kind.value] * same + ["*"] * anyk)
            if not anyk and len(s.alarms.setdefault(hit.kind.value, [])) < examples:
                s.alarms[hit.kind.value].append(_context(doc, hit.start, hit.end, hit.kind))
    return s


def _context(doc: Doc, start: int, end: int, kind: PhiKind) -> str:
    """The text around a span, with the span masked (these are synthetic, but habits matter)."""
    before = doc.text[max(0, start - 40):start].replace("\n", "⏎").replace("\r", "⏎")
    after = doc.text[end:end + 25].replace("\n", "⏎").replace("\r", "⏎")
    return f"[{doc.template}] …{before}«{mask(kind, doc.text[start:end])}»{after}…"


def _ratio(num: int, den: int) -> str:
    return f"{num / den:6.1%}" if den else "     -"


def report(s: Score) -> None:
    """Print the precision / recall table, then examples of misses and false alarms."""
    print(f"{'kind':<9} {'truth':>6} {'found':>6} {'recall':>7} {'hits':>6} {'right':>6} "
          f"{'precision':>9}")
    kinds = [k.value for k in PhiKind if s.truth[k.value] or s.predicted[k.value]] + ["*"]
    for kind in kinds:
        label = "overall" if kind == "*" else kind
        print(f"{label:<9} {s.truth[kind]:>6} {s.found[kind]:>6} "
              f"{_ratio(s.found[kind], s.truth[kind]):>7} {s.predicted[kind]:>6} "
              f"{s.correct[kind]:>6} {_ratio(s.correct[kind], s.predicted[kind]):>9}")
    rows = sorted(s.template_truth.items())
    print("recall by template: " + ", ".join(
        f"{t} {_ratio(s.template_found[t], n).strip()}" for t, n in rows))
    for title, table in (("missed", s.misses), ("false alarms", s.alarms)):
        shown = {k: v for k, v in table.items() if v}
        if shown:
            print(f"\nexamples {title}:")
            for kind, rows in sorted(shown.items()):
                for row in rows:
                    print(f"  {kind:<8} {row}")


def main() -> None:
    """Generate the corpus, scan it, print accuracy and speed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--big-mb", type=float, default=20.0,
                        help="size of the one-file throughput test (0 to skip)")
    parser.add_argument("--examples", type=int, default=3, help="examples per kind and table")
    parser.add_argument("--dump", help="write the corpus as JSON lines to this file")
    parser.add_argument("--negatives", metavar="DIR",
                        help="also scan the text files under DIR (e.g. .venv/lib/python3.11/"
                        "site-packages), assumed to hold no PHI, and count false alarms")
    args = parser.parse_args()

    docs = generate(args.docs, args.seed)
    if args.dump:
        with open(args.dump, "w", encoding="utf-8") as out:
            for d in docs:
                out.write(json.dumps({"text": d.text, "layout": d.layout, "spans": [
                    [k.value, a, b] for k, a, b in d.spans]}) + "\n")
    megabytes = sum(len(d.text.encode()) for d in docs) / 1e6
    by_template = Counter(d.template for d in docs)
    print(f"corpus: {len(docs)} documents, {megabytes:.2f} MB, "
          f"{sum(len(d.spans) for d in docs)} labelled identifiers, seed {args.seed}")
    print("templates: " + ", ".join(f"{k}={v}" for k, v in sorted(by_template.items())))
    scan("warm up")
    start = time.perf_counter()
    results = [scan(d.text, layout=d.layout) for d in docs]
    elapsed = time.perf_counter() - start
    print(f"scan: {elapsed:.2f} s -> {megabytes / elapsed:.2f} MB/s over separate documents\n")
    report(score(docs, results, args.examples))
    if args.big_mb > 0:
        big_docs: list[Doc] = []
        size = 0
        extra = generate(max(1, int(1.3 * args.docs * args.big_mb / max(megabytes, 1e-6))),
                         args.seed + 1)
        for d in extra:
            if d.layout:
                continue  # tables and seeds are their own files; the big file is one log
            big_docs.append(d)
            size += len(d.text)
            if size >= args.big_mb * 1e6:
                break
        big = "\n".join(d.text for d in big_docs)
        start = time.perf_counter()
        hits = scan(big)
        elapsed = time.perf_counter() - start
        mb = len(big.encode()) / 1e6
        print(f"\none file: {mb:.1f} MB, {big.count(chr(10))} lines, {len(hits)} hits: "
              f"{elapsed:.2f} s -> {mb / elapsed:.2f} MB/s")
    if args.negatives:
        negatives(Path(args.negatives), args.examples)


_TEXT_SUFFIXES = {".py", ".json", ".yml", ".yaml", ".md", ".txt", ".cfg", ".toml", ".rst",
                  ".csv", ".ini", ".html", ".sql", ".ipynb"}


def negatives(root: Path, examples: int) -> None:
    """False alarms per MB on real code and docs that hold no patient data."""
    counts: Counter[str] = Counter()
    shown: dict[str, list[str]] = {}
    total = 0
    n_files = 0
    start = time.perf_counter()
    for path in sorted(root.rglob("*")):
        if path.suffix not in _TEXT_SUFFIXES or not path.is_file():
            continue
        data = path.read_bytes()
        if len(data) > 2_000_000 or b"\0" in data[:8192]:
            continue
        text = data.decode("utf-8", "replace")
        total += len(data)
        n_files += 1
        layout = {".csv": "csv", ".sql": "sql"}.get(path.suffix, "")
        for hit in scan(text, layout=layout):
            counts[hit.kind.value] += 1
            rows = shown.setdefault(hit.kind.value, [])
            if len(rows) < examples:
                doc = Doc(text, [], template=str(path.relative_to(root)))
                rows.append(_context(doc, hit.start, hit.end, hit.kind))
    elapsed = time.perf_counter() - start
    mb = total / 1e6
    print(f"\nnegatives: {n_files} files, {mb:.1f} MB under {root} in {elapsed:.1f} s "
          f"({mb / elapsed:.2f} MB/s); {sum(counts.values())} hits = "
          f"{sum(counts.values()) / mb:.2f} per MB")
    print("  " + ", ".join(f"{k}={n}" for k, n in counts.most_common()))
    for kind, rows in sorted(shown.items()):
        for row in rows:
            print(f"  {kind:<8} {row}")


if __name__ == "__main__":
    main()
