"""security-codemod on real files: bandit's findings in, exact rewrites out, bandit satisfied."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from suture.errors import ToolError
from suture.fix.remedies import codemods
from suture.fix.remedies.interface import Remedy
from suture.fix.remedies.security_codemod import SecurityCodemod, probe
from suture.gates.sast import SastConfig, SastGate
from suture.model import Finding, Level
from suture.pipeline.findings import finish
from tests.fixtures.fix import make_context, make_target, proposals
from tests.fixtures.gates import make_ctx

CONFIG = '''\
"""Settings."""
import yaml


def load_settings(path):
    # Operators write this file.
    with open(path) as fh:
        return yaml.load(fh, Loader=yaml.FullLoader)  # parsed once at start-up
'''
LOADER = '''\
import yaml
from yaml import Loader, dump, load


def roundtrip(text):
    return dump(load(text, Loader=Loader))


def version():
    return yaml.__version__
'''
CLIENT = '''\
import requests


def fetch(url, token):
    resp = requests.get(
        url,
        headers={"Authorization": token},  # bearer token
    )
    return resp.json()


def stream(url):
    return requests.post(url, data=b"", timeout=None)
'''
ARCHIVE = '''\
import tarfile
import zipfile


def unpack(path, dest):
    with tarfile.open(path) as tar:
        tar.extractall(dest)


def unzip(path, dest):
    with zipfile.ZipFile(path) as zf:
        zf.extractall(dest)  # a ZipFile: no filter argument
'''
WEB = '''\
from flask import Flask

app = Flask(__name__)

if __name__ == "__main__":
    app.run(host="127.0.0.1", debug=True)
'''
DIGEST = '''\
import hashlib


def etag(body):
    return hashlib.md5(body).hexdigest()


def legacy(body):
    return hashlib.new("sha1", body).hexdigest()
'''
TASKS = '''\
import subprocess


def disk_usage():
    return subprocess.check_output("df -h /", shell=True)


def count_lines(path):
    return subprocess.check_output("wc -l " + path, shell=True)


def listing():
    return subprocess.check_output("ls -l | sort", shell=True)


def query(db, name):
    return db.execute("SELECT * FROM patients WHERE name = '%s'" % name)
'''
FILES = {"app/config.py": CONFIG, "app/loader.py": LOADER, "app/client.py": CLIENT,
         "app/archive.py": ARCHIVE, "app/web.py": WEB, "app/digest.py": DIGEST,
         "app/tasks.py": TASKS}
RULES = {"B506", "B113", "B202", "B201", "B324", "B602"}
RANK = {"high": 0, "medium": 1, "low": 2}


def sast(root: Path) -> tuple[Finding, ...]:
    """Findings as a run stores them: from the real bandit, with fingerprints."""
    report = SastGate("sast", SastConfig()).run(make_ctx(root))
    return finish(root, report.findings)


def project(git_repo, files: dict[str, str]) -> None:
    git_repo.write("suture.yml", "gates:\n  tests:\n    paths: [tests]\n")
    for rel, text in files.items():
        git_repo.write(rel, text)
    git_repo.commit("insecure code")


def severity(finding: Finding) -> int:
    return RANK[finding.message.rsplit("(severity ", 1)[1].split(",")[0]]


def test_each_rule_is_rewritten_exactly_and_bandit_no_longer_reports_it(git_repo, tmp_path):
    project(git_repo, FILES)
    findings = sast(git_repo.path)
    target = make_target("sast", findings)
    remedy = SecurityCodemod()
    assert isinstance(remedy, Remedy) and remedy.applies(target)

    got = proposals(remedy, target, git_repo.path, make_context(git_repo.path))

    by_print = {f.fingerprint: f for f in findings}
    addressed = [by_print[p.addresses[0]] for p, _ in got]
    assert all(len(p.addresses) == 1 and len(files) == 1 for p, files in got)
    assert [severity(f) for f in addressed] == sorted(severity(f) for f in addressed)
    assert Counter((f.rule_id, f.path) for f in addressed) == Counter({
        ("B506", "app/config.py"): 1, ("B506", "app/loader.py"): 1,
        ("B113", "app/client.py"): 2, ("B202", "app/archive.py"): 1,
        ("B201", "app/web.py"): 1, ("B324", "app/digest.py"): 2, ("B602", "app/tasks.py"): 1,
    })  # not: the ZipFile, the built and the piped shell commands, B608, B404
    texts = {(f.rule_id, f.path, f.line): next(iter(files.values()))
             for f, (_, files) in zip(addressed, got, strict=True)}
    assert texts["B506", "app/config.py", 8] == CONFIG.replace(
        "yaml.load(fh, Loader=yaml.FullLoader)", "yaml.safe_load(fh)")
    assert texts["B506", "app/loader.py", 6] == LOADER.replace(
        "Loader, dump, load", "dump").replace("load(text, Loader=Loader)", "yaml.safe_load(text)")
    assert texts["B113", "app/client.py", 5] == CLIENT.replace(
        "  # bearer token\n", "  # bearer token\n        timeout=30,\n")
    assert texts["B113", "app/client.py", 13] == CLIENT.replace("timeout=None", "timeout=30")
    assert texts["B202", "app/archive.py", 7] == ARCHIVE.replace(
        "tar.extractall(dest)", 'tar.extractall(dest, filter="data")')
    assert texts["B201", "app/web.py", 6] == WEB.replace("debug=True", "debug=False")
    assert texts["B324", "app/digest.py", 5] == DIGEST.replace(
        "md5(body)", "md5(body, usedforsecurity=False)")
    assert texts["B602", "app/tasks.py", 5] == TASKS.replace(
        '"df -h /", shell=True', '["df", "-h", "/"]')

    summaries = {f.rule_id: p.summary for f, (p, _) in zip(addressed, got, strict=True)}
    assert summaries["B506"].startswith("Use yaml.safe_load in app/")
    assert summaries["B602"] == "Run the command without a shell in app/tasks.py:5 (B602)"
    assert all(len(p.summary) <= 72 for p, _ in got)
    rationale = {f.rule_id: p.rationale for f, (p, _) in zip(addressed, got, strict=True)}
    assert "sha256" in rationale["B324"] and "CWE-327" in rationale["B324"]
    assert "3.11" in rationale["B202"]

    # One bandit run over every rewritten file: the addressed finding is gone from each.
    check = tmp_path / "check"
    for n, (finding, (_, files)) in enumerate(zip(addressed, got, strict=True)):
        (check / f"c{n}").mkdir(parents=True)
        (check / f"c{n}" / Path(finding.path or "").name).write_text(next(iter(files.values())))
    after = sast(check)
    for n, finding in enumerate(addressed):
        before = sum(f.rule_id == finding.rule_id and f.path == finding.path for f in findings)
        now = sum(f.rule_id == finding.rule_id and f.path.startswith(f"c{n}/")
                  for f in after if f.path)
        assert now == before - 1, (finding.rule_id, finding.path, finding.line)
    assert not [f for f in after if f.rule_id == "bandit/parse-error"]


def test_nosec_line_and_unknown_rules_are_left_alone(git_repo):
    project(git_repo, {"app/config.py": CONFIG})
    stale = sast(git_repo.path)  # reported before someone reviewed the line
    assert [f.rule_id for f in stale] == ["B506"]
    marked = CONFIG.replace("# parsed once", "# nosec B506 - trusted file; parsed once")
    git_repo.write("app/config.py", marked)
    git_repo.commit("reviewed")
    ctx = make_context(git_repo.path)
    assert proposals(SecurityCodemod(), make_target("sast", stale), git_repo.path, ctx) == []
    assert (git_repo.path / "app/config.py").read_text() == marked

    unknown = stale[0].model_copy(update={"rule_id": "B608"})
    assert not SecurityCodemod().applies(make_target("sast", [unknown]))
    assert not SecurityCodemod().applies(make_target("lint", stale))
    assert proposals(SecurityCodemod(), make_target("sast", [unknown]), git_repo.path, ctx) == []


def test_layout_of_arguments_and_comments_is_kept():
    caps = codemods.Capabilities()

    def fix(rule: str, source: str, line: int) -> str:
        result = codemods.rewrite(rule, source.encode(), line, None, caps)
        assert isinstance(result, codemods.Rewrite), result
        return result.source.decode()

    assert fix("B113", "import requests\nr = requests.get(\n    url,\n    params=p  # query\n)\n",
               2) == ("import requests\nr = requests.get(\n    url,\n    params=p,  # query\n"
                      "    timeout=30\n)\n")
    assert fix("B113", "import requests as rq\nrq.head(url)\nrq.put(url,)\n", 2) == (
        "import requests as rq\nrq.head(url, timeout=30)\nrq.put(url,)\n")
    assert fix("B113", "import requests as rq\nrq.put(url,)\n", 2) == (
        "import requests as rq\nrq.put(url, timeout=30,)\n")
    assert fix("B602", "import subprocess\nsubprocess.run(\n    'ls -l',  # list\n"
               "    shell=True\n)\n", 3) == (
        "import subprocess\nsubprocess.run(\n    ['ls', '-l']  # list\n)\n")
    assert fix("B602", "import subprocess\nsubprocess.run(\n    \"ls -l\",  # list\n"
               "    shell=True,\n)\n", 2) == (
        "import subprocess\nsubprocess.run(\n    [\"ls\", \"-l\"],  # list\n)\n")
    assert fix("B602", "from subprocess import run\n"
               "run(args='git status -s', shell=True, check=True)\n", 2) == (
        "from subprocess import run\nrun(args=['git', 'status', '-s'], check=True)\n")
    # An f-string's values become whole arguments: the shell no longer splits or expands them.
    assert fix("B602", 'import subprocess\nsubprocess.run(f"gzip -9 {path}", shell=True, '
               'check=True)\n', 2) == ('import subprocess\nsubprocess.run(["gzip", "-9", '
                                       'str(path)], check=True)\n')
    assert fix("B602", "import subprocess\nsubprocess.run(f'cp {a.src} {dst} -v', "
               "shell=True)\n", 2) == ("import subprocess\nsubprocess.run(['cp', str(a.src), "
                                       "str(dst), '-v'])\n")
    assert fix("B506", "import yaml\nfrom yaml import load\n\ncfg = load(f)\n", 4) == (
        "import yaml\n\ncfg = yaml.safe_load(f)\n")
    # bandit only reports from-imports when yaml is also imported, but the form is handled.
    assert fix("B506", "from yaml import (\n    Loader,\n    dump,\n    load,\n)\n\n"
               "x = load(f, Loader)\ny = load(g)\n", 7) == (
        "from yaml import (\n    dump,\n    load,\n    safe_load,\n)\n\n"
        "x = safe_load(f)\ny = load(g)\n")
    assert fix("B506", "import yaml\nfrom yaml import safe_load\nx = yaml.load(f)\n", 3) == (
        "import yaml\nfrom yaml import safe_load\nx = yaml.safe_load(f)\n")
    assert fix("B506", "from yaml import load, safe_load\nx = load(f)\n", 2) == (
        "from yaml import safe_load\nx = safe_load(f)\n")
    assert fix("B113", "import httpx\nhttpx.Client(timeout=None)\n", 2) == (
        "import httpx\nhttpx.Client(timeout=30)\n")
    for binding in ("t = tarfile.open(p)\n", "def f(t: tarfile.TarFile):\n    "):
        source = f"import tarfile\n{binding}t.extractall()\n"
        assert fix("B202", source, source.count("\n")).endswith(
            "t.extractall(filter=\"data\")\n")
    assert fix("B324", "from hashlib import sha1\nkey = sha1(\n    data,\n).hexdigest()\n",
               3) == ("from hashlib import sha1\nkey = sha1(\n    data,\n"
                      "    usedforsecurity=False,\n).hexdigest()\n")


def test_unsafe_cases_are_refused_with_a_reason():
    caps = codemods.Capabilities()

    def refused(rule: str, source: str, line: int, with_caps: codemods.Capabilities = caps) -> str:
        result = codemods.rewrite(rule, source.encode(), line, None, with_caps)
        assert isinstance(result, codemods.Refusal), result
        return result.reason

    assert "Loader" in refused("B506", "import yaml\nyaml.load(f, Loader=MyLoader)\n", 2)
    assert "**kwargs" in refused("B113", "import requests\nrequests.get(url, **opts)\n", 2)
    assert "filters" in refused("B202", "import tarfile\ntarfile.open(p).extractall()\n", 2,
                                codemods.Capabilities(tar_filter=False))
    assert "usedforsecurity" in refused(
        "B324", "import hashlib\nhashlib.md5(b, usedforsecurity=True)\n", 2)
    assert "shell syntax" in refused(
        "B602", "import subprocess\nsubprocess.call('ls $HOME', shell=True)\n", 2)
    assert "executable" in refused(
        "B602", "import subprocess\nsubprocess.call('ls', shell=True, executable='/bin/bash')\n",
        2)
    assert "not guessing" in refused(
        "B113", "import requests\nrequests.get(requests.get(u).text)\n", 2)
    assert "no codemod" in refused("B608", "x = 1\n", 1)
    assert "does not parse" in refused("B506", "import yaml\nyaml.load(\n", 2)
    assert "no matching call" in refused("B506", "import yaml\nyaml.safe_load(f)\n", 2)
    assert "*args" in refused("B506", "import yaml\nyaml.load(*streams)\n", 2)
    assert "taken" in refused("B506", "from yaml import load\nsafe_load = 1\nload(f)\n", 3)
    assert "other than" in refused("B506", "import yaml\nyaml.load(f, L, x=1)\n", 2)
    assert "already sets" in refused("B113", "import requests\nrequests.get(u, timeout=5)\n", 2)
    assert "default timeout" in refused("B113", "import httpx\nhttpx.get(u)\n", 2)
    assert "filter" in refused(
        "B202", "import tarfile\ntarfile.open(p).extractall(filter='tar')\n", 2)
    assert "cannot tell" in refused(  # rebound to something else in the same scope
        "B202", "import tarfile\nt = tarfile.open(p)\nt = other()\nt.extractall()\n", 4)
    assert "3.9" in refused("B324", "import hashlib\nhashlib.md5(b)\n", 2,
                            codemods.Capabilities(usedforsecurity=False))
    assert "plain str" in refused(
        "B602", "import subprocess\nsubprocess.call(b'ls -l', shell=True)\n", 2)
    for glued in ("f'ls {d}/*'", "f'tar -f out={name}'", "f'{tool} -v'", "f'ls {d:>4}'",
                  "f'ls {d}x'", "rf'ls {d}'", "f'ls \"{d}\"'"):
        assert refused("B602", f"import subprocess\nsubprocess.call({glued}, shell=True)\n", 2)


def test_plain_commands_split_as_the_shell_would(git_repo):
    git_repo.write("a b.txt", "x\n")
    git_repo.commit("a file with a space")
    for command in ('git log --format="%h %s by %an" -n 1', "git ls-files -- 'a b.txt'",
                    "git rev-parse --abbrev-ref=strict HEAD"):
        argv = codemods.split_plain_command(command)
        assert argv is not None, command
        via_shell = subprocess.run(command, shell=True, cwd=git_repo.path, capture_output=True,
                                   text=True, check=True).stdout
        direct = subprocess.run(argv, cwd=git_repo.path, capture_output=True, text=True,
                                check=True).stdout
        assert direct == via_shell and direct, command
    for command in ("ls | wc", "ls > out", "echo $HOME", "ls *.py", "cd /tmp", "A=1 env",
                    "ls; rm x", "cat `x`", "ls 'open", "", "ls ~", "a && b",
                    "git log --format='%h|%s'"):
        assert codemods.split_plain_command(command) is None, command


def test_probe_asks_the_project_interpreter(tmp_path):
    (tmp_path / "suture.yml").write_text("gates:\n  tests:\n    paths: [tests]\n")
    ctx = make_context(tmp_path)
    caps, version = probe(ctx)
    assert version.startswith(f"{sys.version_info[0]}.{sys.version_info[1]}.")
    assert caps.usedforsecurity and caps.tar_filter == hasattr(__import__("tarfile"),
                                                                "data_filter")
    with pytest.raises(ToolError, match="not installed"):
        probe(make_context(tmp_path, python=str(tmp_path / "no-python")))
    with pytest.raises(ToolError, match="what it supports"):  # runs, prints nothing
        probe(make_context(tmp_path, python="true"))


def test_findings_from_other_tools_or_without_a_file_are_skipped(git_repo):
    project(git_repo, {"app/web.py": WEB})
    elsewhere = Finding(rule_id="B201", level=Level.ERROR, tool="bandit", message="x",
                        path="../outside.py", line=6, fingerprint="f1")
    other_tool = elsewhere.model_copy(update={"tool": "semgrep", "path": "app/web.py"})
    target = make_target("sast", [elsewhere, other_tool])
    assert SecurityCodemod().applies(target)
    assert proposals(SecurityCodemod(), target, git_repo.path,
                     make_context(git_repo.path)) == []
