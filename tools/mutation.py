"""Mutation testing of trainlab's numerical packages with mutmut 3, and a score table per package.

Usage (by hand, from the repository root; not part of CI — a full run takes hours)::

    python tools/mutation.py                     # all four packages: nn optim convex models
    python tools/mutation.py nn optim            # only these
    python tools/mutation.py nn --only variants.py --only batchnorm.py
    python tools/mutation.py nn --report         # the table from the last results, no run
    python tools/mutation.py nn --survivors      # the mutants no test killed (then `--show NAME`)
    python tools/mutation.py nn --rerun          # after adding tests: re-test the non-killed ones
    python tools/mutation.py --sample 120        # 120 random mutants per package, score ± 95% CI
    python tools/mutation.py nn --sample 120 --rerun   # after adding tests: re-test its survivors

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

Sampling. The ~9,900 mutants take days on one worker, so ``--sample N [--seed S]`` estimates the
score from N mutants per package drawn uniformly at random (without replacement) from all of the
package's mutants (those of ``--only`` if given), listed by generating them as mutmut does,
without running a test. The draw counts the mutants that pragmas suppress and is kept in the
workspace (``sample-N-seedS.json``), so later runs test and score the same mutants after tests,
pragmas or fixes are added: each is recognised by its function and the lines it changes, not by
mutmut's number, which a pragma shifts. A sampled mutant a pragma now suppresses counts as
"equivalent", one whose code a fix removed as "gone"; the score is ``killed / (sampled -
equivalent - gone)`` with a 95% Wilson interval, followed by the sampled mutants not killed.
A sampled mutant keeps a verdict it already had (from an earlier run); ``--rerun all`` re-tests
the whole sample, ``--rerun`` its mutants not killed. ``--survivors --sample N`` prints the
table and the list without running anything.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import fnmatch
import functools
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import textwrap
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "mutants"


# The tests run against each package's mutants: its own and its users' (the convex solvers drive
# optim's loop; the models are built from nn's residual blocks and fold its BN). Left out for nn:
# the torch ModuleInfo database sweep (2 min of BatchNorm3d configurations, against torch's own
# module, as tests/nn/test_batchnorm_parity.py does in seconds) and the float64 gradgradchecks
# (1.5 min; the first-order gradchecks stay). A mutant no selected test kills counts as survived,
# so the score is a lower bound for the whole suite.
@dataclass
class Package:
    tests: list[str]
    ignore: list[str] = field(default_factory=list)
    deselect: list[str] = field(default_factory=list)
    keyword: str | None = None


PACKAGES: dict[str, Package] = {
    "nn": Package(
        ["tests/nn", "tests/models"],  # the models' tests exercise nn's residual blocks
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


def _normalized(code: str) -> list[str]:
    """A generated function's code without its name, comments and layout."""
    tree = ast.parse(textwrap.dedent(code))
    tree.body[0].name = "f"
    return ast.unparse(tree).splitlines()


def list_mutants(name: str, pragmas: bool = True) -> dict[str, str]:
    """Every mutant of the package, generated as mutmut does but without running anything:
    mutmut's name -> a fingerprint that survives renumbering (the file, the function and the
    lines the mutation changes), since a pragma or a fix shifts the numbers of a function's
    later mutants. ``pragmas=False`` generates them as if no line had ``# pragma: no mutate``."""
    out: dict[str, str] = {}
    for path in sorted((ROOT / "src" / "trainlab" / name).glob("*.py")):
        source = path.read_text()
        out.update(_file_mutants(path, source if pragmas else EQUIVALENT_PRAGMA.sub("#", source)))
    return out


@functools.cache
def _file_mutants(path: Path, source: str) -> dict[str, str]:
    from mutmut.mutation.file_mutation import mutate_file_contents
    from mutmut.utils.format_utils import get_mutant_name

    mutated = mutate_file_contents(str(path), source)
    lines = mutated.code.splitlines()
    spans = mutated.line_span_by_function_name

    def code(function: str) -> list[str]:
        return _normalized("\n".join(lines[spans[function].start - 1 : spans[function].end]))

    out: dict[str, str] = {}
    seen: Counter[str] = Counter()
    for mutant in mutated.mutant_names:
        function = mutant.rpartition("__mutmut_")[0]
        diff = difflib.unified_diff(code(f"{function}__mutmut_orig"), code(mutant), n=0)
        changed = [d.strip() for d in diff if d[:1] in "+-" and d[:3] not in ("+++", "---")]
        fingerprint = "|".join([path.name, function, *changed])
        seen[fingerprint] += 1
        out[get_mutant_name(path.relative_to(ROOT), mutant)] = f"{fingerprint}|{seen[fingerprint]}"
    return out


def draw_sample(name: str, size: int, seed: int, only: list[str]) -> list[str]:
    """The fingerprints of ``size`` mutants drawn uniformly (without replacement) from all the
    package's mutants (or those of --only), counting the ones pragmas suppress, so that marking a
    sampled mutant equivalent does not change the sample. Drawn once and kept in the workspace
    (``sample-<size>-seed<seed>.json``); later runs, after tests, pragmas or fixes, reuse it."""
    selection = re.sub(r"[^\w.]+", "_", "-".join(["", *only]))
    path = workspace(name) / f"sample-{size}-seed{seed}{selection}.json"
    if path.exists():
        return json.loads(path.read_text())["sample"]
    globs = mutant_globs(name, only) or ["*"]
    population = [
        fingerprint
        for key, fingerprint in list_mutants(name, pragmas=False).items()
        if any(fnmatch.fnmatch(key, g) for g in globs)
    ]
    sample = random.Random(seed).sample(population, min(size, len(population)))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"population": len(population), "sample": sample}, indent=1))
    return sample


def locate_sample(name: str, sample: list[str]) -> dict[str, str | None]:
    """Sampled fingerprint -> its mutant's current name; None for one a pragma now suppresses
    (equivalent), "gone" for one whose code a change of the source removed."""
    current = {fp: key for key, fp in list_mutants(name).items()}
    unsuppressed = set(list_mutants(name, pragmas=False).values())
    return {fp: current.get(fp) or (None if fp in unsuppressed else "gone") for fp in sample}


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion k/n."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def sample_table(names: list[str], args: argparse.Namespace) -> str:
    """The sampled mutants' verdicts per package, the score with its interval, and the mutants
    not killed."""
    columns = ["sampled", "killed", "survived", "no tests", "timeout", "not checked"]
    columns += ["equivalent", "gone"]
    rows, survivors = [], []
    for name in names:
        located = locate_sample(name, draw_sample(name, args.sample, args.seed, args.only))
        status = results(name)
        n = dict.fromkeys(columns, 0)
        n["sampled"] = len(located)
        for key in located.values():
            verdict = "equivalent" if key is None else key if key == "gone" else status.get(key)
            verdict = verdict or "not checked"
            n[verdict if verdict in n else "survived"] += 1
            if verdict not in ("killed", "equivalent", "gone"):
                survivors.append(f"{verdict:12} {key}")
        scored = n["sampled"] - n["equivalent"] - n["gone"] - n["not checked"]
        low, high = wilson(n["killed"], scored)
        score = f"{100 * n['killed'] / scored:.1f}%" if scored else "-"
        interval = f"{100 * low:.1f}–{100 * high:.1f}%"
        rows.append([name, *(str(n[c]) for c in columns), score, interval])
    header = ["package", *columns, "score", "95% CI"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join(f"{{:{'<' if i == 0 else '>'}{w}}}" for i, w in enumerate(widths))
    text = [line.format(*header), line.format(*("-" * w for w in widths))]
    text += [line.format(*r) for r in rows]
    text.append(
        f"sample of {args.sample} mutants per package, seed {args.seed}; score = killed / "
        "(sampled - equivalent - gone - not checked), 95% Wilson interval"
    )
    return "\n".join([*text, "", "not killed:" if survivors else "", *survivors]).rstrip()


def run_mutmut(name: str, args: argparse.Namespace) -> int:
    ws = prepare(name)
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONHASHSEED="0")
    env.pop("CI", None)  # the CI-only failures for missing system packages do not apply here
    patterns = mutant_globs(name, args.only)
    known = results(name)
    # mutmut re-tests every mutant it is given by name, so name only those still to be tested
    wanted = set(args.rerun.split(",")) if args.rerun else {"not checked"}
    candidates = None  # None: mutmut's default, every mutant without a verdict
    if args.sample:
        located = locate_sample(name, draw_sample(name, args.sample, args.seed, args.only))
        candidates = [key for key in located.values() if key not in (None, "gone")]
    elif args.rerun or (patterns and known):
        candidates = [k for k in known if any(fnmatch.fnmatch(k, g) for g in patterns or ["*"])]
    if candidates is not None:
        patterns = [
            k for k in candidates if "all" in wanted or known.get(k, "not checked") in wanted
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
    parser.add_argument(
        "--sample",
        type=int,
        metavar="N",
        help="test only N mutants per package drawn at random (of all, or of --only's), and "
        "print the score with its 95%% confidence interval and the sampled mutants not killed",
    )
    parser.add_argument("--seed", type=int, default=0, help="the --sample draw's seed (0)")
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
    if args.survivors and args.sample:
        print(sample_table(names, args))
        return 0
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
    print(sample_table(names, args) if args.sample else table(names, args.only))
    return 0


if __name__ == "__main__":
    sys.exit(main())
