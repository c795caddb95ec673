"""Mutation testing of trainlab's numerical packages with mutmut 3, and a score table per package.

Usage (by hand, from the repository root; not part of CI — a full run takes hours)::

    python tools/mutation.py                     # all four packages: nn optim convex models
    python tools/mutation.py nn optim            # only these
    python tools/mutation.py nn --only variants.py --only batchnorm.py
    python tools/mutation.py nn --report         # the table from the last results, no run
    python tools/mutation.py nn --survivors      # the mutants no test killed (then `--show NAME`)
    python tools/mutation.py nn --rerun          # after adding tests: re-test the non-killed ones

How it works. Each package gets its own mutmut workspace ``mutants/<package>/`` (``mutants/`` is
git-ignored): a copy of ``src/``, ``tests/`` and ``pyproject.toml`` plus a ``setup.cfg`` whose
``[mutmut]`` section says which files to mutate (that package only) and which tests to run
against its mutants (the package's own tests and those of its users, minus a few slow
database sweeps that add minutes and no kills the parity tests miss; see ``PACKAGES``).
``mutmut run`` then works in that workspace, so the four packages keep separate, resumable
results: rerunning the command tests only mutants without a verdict yet; ``--rerun`` re-tests
the ones that survived (mutmut otherwise keeps a verdict until the function's source changes).
Nothing needs the network. The runs use one worker (``--max-children``) and single-threaded
torch (``OMP_NUM_THREADS=1``), which is also what makes forking the test process safe.

mutmut mutates function and method bodies only (module-level constants and functions under
decorators such as ``@torch.no_grad()`` are left alone). A mutant that changes no observable
behaviour is marked in the source with ``# pragma: no mutate`` and a reason; the table counts
those as "equivalent" (by generating the file's mutants with and without the pragmas) and
scores ``killed / (total - equivalent)``. "no tests" are mutants in code no selected test
reaches, "timeout" ones that made a test run 15x longer than normal; both count as not killed.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "mutants"


# The tests run against each package's mutants: its own and its users' (the convex solvers drive
# optim's loop; fusing models exercises nn's conv/BN folding). Left out for nn: the torch
# ModuleInfo database sweep (2 min of BatchNorm3d configurations, against torch's own module, as
# tests/nn/test_batchnorm_parity.py does in seconds) and the float64 gradgradchecks (1.5 min;
# the first-order gradchecks stay). A mutant no selected test kills counts as survived, so the
# score is a lower bound for the whole suite.
@dataclass
class Package:
    tests: list[str]
    ignore: list[str] = field(default_factory=list)
    deselect: list[str] = field(default_factory=list)
    keyword: str | None = None


PACKAGES: dict[str, Package] = {
    "nn": Package(
        ["tests/nn"],
        ignore=["tests/nn/test_torch_module_db.py"],
        # TorchScript compiles forward's source, which under mutmut is the trampoline
        deselect=["tests/nn/test_freeze.py::test_a_frozen_model_pickles_saves_and_scripts"],
        keyword="not gradgradcheck",
    ),
    "optim": Package(["tests/optim", "tests/convex"]),
    "convex": Package(["tests/convex"]),
    "models": Package(["tests/models", "tests/nn/test_fusion.py"]),
}

RERUN = ["survived", "timeout", "no tests", "suspicious"]
EQUIVALENT_PRAGMA = re.compile(r"#\s*pragma:\s*no mutate")

STATUS = {  # mutmut's exit codes (mutmut.stats.status_by_exit_code), folded into the columns
    0: "survived",
    1: "killed",
    3: "killed",
    5: "no tests",
    33: "no tests",
    34: "skipped",
    36: "timeout",
    24: "timeout",
    -24: "timeout",
    152: "timeout",
    255: "timeout",
    37: "killed",  # caught by a type check (none is configured)
    None: "not checked",
}


def mutmut_executable() -> str:
    here = Path(sys.executable).parent / "mutmut"
    found = str(here) if here.exists() else shutil.which("mutmut")
    if not found:
        sys.exit("mutmut is not installed: pip install 'mutmut>=3.8'")
    return found


def workspace(name: str) -> Path:
    return WORK / name


def _copy_tree(source: Path, target: Path) -> None:
    """Mirror source into target keeping modification times (mutmut compares them to decide
    whether a file's mutants must be regenerated), dropping files no longer in source."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".hypothesis")
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=ignore, copy_function=shutil.copy2)


def _cfg_list(values: list[str]) -> str:
    return "\n" + "\n".join(f"    {v}" for v in values)


def prepare(name: str) -> Path:
    """Create or refresh the package's workspace and its mutmut configuration."""
    spec = PACKAGES[name]
    ws = workspace(name)
    ws.mkdir(parents=True, exist_ok=True)
    _copy_tree(ROOT / "src", ws / "src")
    _copy_tree(ROOT / "tests", ws / "tests")
    shutil.copy2(ROOT / "pyproject.toml", ws / "pyproject.toml")
    selection = [*spec.tests, *(f"--ignore={path}" for path in spec.ignore)]
    selection += [f"--deselect={test}" for test in spec.deselect]
    if spec.keyword:
        selection += ["-k", spec.keyword]
    config = (
        "[mutmut]\n"
        "source_paths = src\n"
        f"only_mutate = src/trainlab/{name}/*\n"
        f"pytest_add_cli_args_test_selection ={_cfg_list(selection)}\n"
        # hypothesis draws the same examples every run, so a verdict does not depend on luck
        f"pytest_add_cli_args ={_cfg_list(['-p', 'no:cacheprovider', '--hypothesis-seed=0'])}\n"
        "use_git_change_detection = false\n"
    )
    cfg = ws / "setup.cfg"
    if not cfg.exists() or cfg.read_text() != config:
        cfg.write_text(config)
    return ws


def mutant_globs(name: str, only: list[str]) -> list[str]:
    """mutmut mutant-name patterns for --only (default: all): a file of the package
    (``batchnorm.py``), or a function or method in it (``resnet.py:ResNet._init_weights``,
    ``minimize.py:_Run.*``; mutmut writes a method C.m as ``xǁCǁm`` and a function f as ``x_f``)."""
    globs = []
    for item in only:
        file, _, function = item.partition(":")
        module = f"trainlab.{name}.{Path(file).stem}"
        if not function:
            globs.append(f"{module}.*")
            continue
        owner, _, method = function.rpartition(".")
        mangled = f"xǁ{owner}ǁ{method}" if owner else f"x_{method}"
        globs.append(f"{module}.{mangled}__mutmut_*")
    return globs


def results(name: str) -> dict[str, str]:
    """Mutant name -> status, from the meta files mutmut writes beside the mutated sources."""
    out: dict[str, str] = {}
    base = workspace(name) / "mutants" / "src" / "trainlab" / name
    for meta in sorted(base.glob("*.py.meta")):
        data = json.loads(meta.read_text())
        for key, code in data["exit_code_by_key"].items():
            out[key] = STATUS.get(code, "suspicious")
    return out


def count_equivalents(name: str) -> dict[str, int]:
    """Per file, the mutants the ``# pragma: no mutate`` lines suppress (marked equivalent)."""
    from mutmut.mutation.file_mutation import mutate_file_contents

    counts: dict[str, int] = {}
    for path in sorted((ROOT / "src" / "trainlab" / name).glob("*.py")):
        source = path.read_text()
        if not EQUIVALENT_PRAGMA.search(source):
            continue
        stripped = EQUIVALENT_PRAGMA.sub("#", source)
        with_pragmas = len(mutate_file_contents(str(path), source).mutant_names)
        without = len(mutate_file_contents(str(path), stripped).mutant_names)
        counts[path.stem] = without - with_pragmas
    return counts


def table(names: list[str], only: list[str]) -> str:
    columns = ["total", "killed", "survived", "no tests", "timeout", "not checked", "equivalent"]
    rows = []
    for name in names:
        status = results(name)
        if only:
            globs = mutant_globs(name, only)
            status = {k: v for k, v in status.items() if any(fnmatch.fnmatch(k, g) for g in globs)}
        equivalents = count_equivalents(name)
        if only:
            stems = {Path(f.partition(":")[0]).stem for f in only}
            equivalents = {k: v for k, v in equivalents.items() if k in stems}
        n = {c: 0 for c in columns}
        for s in status.values():
            n[s if s in n else "survived"] += 1
        n["equivalent"] = sum(equivalents.values())
        n["total"] = len(status) + n["equivalent"]
        scored = n["total"] - n["equivalent"] - n["not checked"]
        score = f"{100 * n['killed'] / scored:.1f}%" if scored else "-"
        rows.append([name, *(str(n[c]) for c in columns), score])
    header = ["package", *columns, "score"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join(f"{{:{'<' if i == 0 else '>'}{w}}}" for i, w in enumerate(widths))
    text = [line.format(*header), line.format(*("-" * w for w in widths))]
    text += [line.format(*r) for r in rows]
    text.append(
        "score = killed / (total - equivalent - not checked); 'not checked' mutants (a run "
        "stopped early) are left out of the score until they have a verdict"
    )
    return "\n".join(text)


def run_mutmut(name: str, args: argparse.Namespace) -> int:
    ws = prepare(name)
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONHASHSEED="0")
    env.pop("CI", None)  # the CI-only failures for missing system packages do not apply here
    patterns = mutant_globs(name, args.only)
    known = results(name)
    # mutmut re-tests every mutant it is given by name, so name only those still to be tested
    wanted = set(args.rerun.split(",")) if args.rerun else {"not checked"}
    if args.rerun or (patterns and known):
        patterns = [
            k
            for k, v in known.items()
            if (v in wanted or "all" in wanted)
            and (not patterns or any(fnmatch.fnmatch(k, g) for g in patterns))
        ]
        if not patterns:
            print(f"{name}: no mutant to test")
            return 0
    command = [mutmut_executable(), "run", "--max-children", str(args.max_children), *patterns]
    print(f"== {name}: {' '.join(command[:4])} ... ({len(patterns)} patterns) in {ws}", flush=True)
    return subprocess.call(command, cwd=ws, env=env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python tools/mutation.py",
        description=__doc__.split("\n\n")[0],
        epilog="The module docstring (tools/mutation.py) explains the workspaces and the score.",
    )
    parser.add_argument(
        "packages",
        nargs="*",
        metavar="PACKAGE",
        help=f"packages of src/trainlab to mutate: any of {', '.join(PACKAGES)} (default: all)",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="FILE",
        help="test only the mutants of this file of the package (batchnorm.py) or of a "
        "function in it (resnet.py:ResNet._init_weights, minimize.py:_Run.*); repeatable",
    )
    parser.add_argument("--max-children", type=int, default=1, help="parallel workers (1)")
    parser.add_argument("--report", action="store_true", help="print the table only, run nothing")
    parser.add_argument(
        "--rerun",
        nargs="?",
        const=",".join(RERUN),
        metavar="STATUSES",
        help="re-test the mutants with these statuses (default: "
        f"{','.join(RERUN)}; 'all' for every one, e.g. after adding a pragma, which renumbers "
        "the function's mutants), e.g. after adding tests",
    )
    parser.add_argument(
        "--survivors", action="store_true", help="list the mutants not killed, run nothing"
    )
    parser.add_argument("--show", metavar="MUTANT", help="print a mutant's diff, run nothing")
    parser.add_argument(
        "--fresh", action="store_true", help="delete the packages' workspaces and start over"
    )
    args = parser.parse_args(argv)
    names = list(dict.fromkeys(args.packages or PACKAGES))
    unknown = [n for n in names if n not in PACKAGES]
    if unknown:
        parser.error(f"unknown package(s) {', '.join(unknown)}; choose from {', '.join(PACKAGES)}")

    if args.show:
        name = args.show.split(".")[1]
        prepare(name)
        return subprocess.call([mutmut_executable(), "show", args.show], cwd=workspace(name))
    if args.survivors:
        for name in names:
            globs = mutant_globs(name, args.only) or ["*"]
            for key, status in sorted(results(name).items()):
                if status != "killed" and any(fnmatch.fnmatch(key, g) for g in globs):
                    print(f"{status:12} {key}")
        return 0
    if not args.report:
        for name in names:
            if args.fresh and workspace(name).exists():
                shutil.rmtree(workspace(name))
            code = run_mutmut(name, args)
            if code not in (0, None):
                print(f"{name}: mutmut exited with {code}", file=sys.stderr)
    print(table(names, args.only))
    return 0


if __name__ == "__main__":
    sys.exit(main())
