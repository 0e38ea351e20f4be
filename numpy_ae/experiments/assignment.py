r"""``python -m numpy_ae assignment list|create|grade``: course assignments and their autograder.

``list``
    the exercises (:mod:`numpy_ae.course.exercises`), with their points.
``create NAME --out DIR [--solutions] [--force]``
    a self-contained student package in ``DIR`` (:mod:`numpy_ae.course.package`):
    the modules the exercise needs, copied into ``DIR/numpy_ae_student/`` with
    the exercise's function bodies replaced by ``# YOUR CODE HERE`` /
    ``raise NotImplementedError()`` (docstrings kept), the tutorial as a percent
    script and a notebook, a README. ``--solutions`` writes the instructor's
    copy (bodies in place). ``DIR`` must be new or empty; ``--force`` replaces an
    earlier assignment, a folder holding only what ``create`` writes
    (:mod:`numpy_ae.course.handout`), and refuses any other non-empty folder.
``create NAME --out DIR --gradescope``
    also the autograder zip for Gradescope, beside ``DIR`` as ``DIR-autograder.zip``
    (:mod:`numpy_ae.course.gradescope`: ``setup.sh``, ``run_autograder``, the grader).
``create NAME --out DIR --nbgrader``
    nbgrader's source version in ``DIR`` (:mod:`numpy_ae.course.nbgrader_source`):
    the notebook with the solutions in nbgrader's markers and its graded cells.
``grade DIR [--json] [--results results.json] [--time-limit S] [--isolation MODE] [--require-isolation]``
    run the exercise's tests, in this (trusted) process, against the student's
    package running in a sandboxed child (:mod:`numpy_ae.course.grade`): a table
    of tests and points, the per-block report of a failed gradient check,
    Gradescope's ``results.json`` (written here, after the child is gone).
    With ``--json`` the last line is ``{"score", "max_score", "tests": [...]}``.

Bad input (an unknown exercise, a non-empty ``--out``, a folder that is not an
assignment, a missing module) is a ValueError: ``error: ...``, exit status 2.
``--out`` and ``--results`` are checked before the work starts
(:mod:`numpy_ae.experiments.registry`): grading takes a while.
Exit status of ``grade``: 0 whatever the score (a low score is not an error).
"""
from __future__ import annotations

import json
import pathlib
import shlex

from .registry import add_output, check_destination, command
from ..course import exercises, gradescope
from ..course.grade import ISOLATION, format_table, grade, gradescope_results
from ..course.nbgrader_source import create_nbgrader_assignment
from ..course.package import create_assignment


@command("assignment", "course assignments: list the exercises, create a student package, grade a student's folder")
def cmd_assignment(args):
    if args.action == "list":
        width = max(len(n) for n in exercises.EXERCISES)
        rows = []
        for ex in exercises.EXERCISES.values():
            ok = exercises.available(ex)
            points = f"{ex.max_score:>3} pts" if ok else "pending"
            print(f"{ex.name:<{width}}  {points}  {ex.title}")
            print(f"{'':<{width}}           {ex.summary if ok else ex.summary + ' -- ' + ex.pending_note}")
            rows.append({"name": ex.name, "title": ex.title, "available": ok, "max_score": ex.max_score,
                         "blank": list(ex.blank), "tests": [t[0] for t in ex.tests]})
        if args.json:
            print(json.dumps({"exercises": rows}))
        return 0

    if args.action == "create":
        if args.nbgrader and (args.solutions or args.gradescope):
            raise ValueError("--nbgrader writes nbgrader's source version (the solutions in the notebook; nbgrader "
                             "generate_assignment makes the student version): it takes neither --solutions nor "
                             "--gradescope. Create those in another folder")
        archive = gradescope.zip_path_for(args.out) if args.gradescope else None
        if archive is not None:  # checked before anything is written
            check_destination("--gradescope", archive, "file")
            gradescope.check_zip_path(archive, force=args.force)
        if args.nbgrader:
            info = create_nbgrader_assignment(args.name, args.out, force=args.force)
        else:
            info = create_assignment(args.name, args.out, solutions=args.solutions, force=args.force)
        if archive is not None:
            info["gradescope_zip"] = gradescope.write_autograder_zip(args.out, archive)["zip"]
        kind = "instructor's copy (solutions in place)" if args.solutions else \
            "nbgrader source version (solutions in the notebook)" if args.nbgrader else "student package"
        print(f"wrote the {kind} of {info['exercise']!r} to {info['out']}:")
        for f in info["files"]:
            print(f"  {f}")
        if not args.solutions:
            print(f"blanked: {', '.join(info['blanked'])}")
        if args.nbgrader:
            print("put it in <course>/source/<assignment>/, then: nbgrader generate_assignment <assignment>; "
                  "nbgrader autograde <assignment>")
        else:
            program = getattr(args, "program", "python -m numpy_ae")  # as the user called it (cli.build_parser)
            print(f"grade it with: {program} assignment grade {shlex.quote(str(info['out']))}")
        if archive is not None:
            print(f"wrote the Gradescope autograder {info['gradescope_zip']} (upload it; students submit "
                  f"numpy_ae_student/ or a zip of their folder)")
        if args.json:
            print(json.dumps(info))
        return 0

    result = grade(args.folder, time_limit=args.time_limit, isolation=args.isolation,
                   require_isolation=args.require_isolation)
    print(format_table(result))
    if args.results:  # checked writable before grading (add_output)
        path = pathlib.Path(args.results)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(gradescope_results(result), indent=2) + "\n")
        print(f"wrote {path}")
    if args.json:
        print(json.dumps({"score": result["score"], "max_score": result["max_score"], "tests": result["tests"],
                          "isolation": result["isolation"]}))
    return 0


def _configure(p):
    sub = p.add_subparsers(dest="action", required=True, metavar="action")
    ls = sub.add_parser("list", help="the exercises", description="the exercises and their points")
    ls.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    cr = sub.add_parser("create", help="write a student package", description="write a student package (or, "
                        "with --solutions, the instructor's copy) for one exercise")
    cr.add_argument("name", help="the exercise (see `assignment list`)")
    add_output(cr, "--out", kind="folder", required=True,
               help="folder to write: new or empty, or with --force an earlier assignment")
    cr.add_argument("--solutions", action="store_true", help="the instructor's copy: function bodies in place")
    cr.add_argument("--force", action="store_true",
                    help="replace an earlier assignment in a non-empty --out: a folder holding only what create "
                         "writes (assignment.json naming the exercise, README.md, EXERCISE.py, EXERCISE.ipynb, "
                         "numpy_ae_student/; __pycache__/ and .ipynb_checkpoints/ allowed). Any other non-empty "
                         "folder is refused and left untouched")
    cr.add_argument("--gradescope", action="store_true",
                    help="also write Gradescope's autograder zip beside --out, as OUT-autograder.zip (setup.sh, "
                         "run_autograder, this grader); --force replaces only such a zip")
    cr.add_argument("--nbgrader", action="store_true",
                    help="write nbgrader's source version: the notebook with the solutions between nbgrader's "
                         "markers and graded cells that call the sandboxed grader (put --out in <course>/source/)")
    cr.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    gr = sub.add_parser("grade", help="grade a student's folder", description="run the exercise's tests on the "
                        "student package in FOLDER and print the points")
    gr.add_argument("folder", help="the student's assignment folder (with assignment.json)")
    gr.add_argument("--json", action="store_true", help="print {score, max_score, tests} as the last line")
    add_output(gr, "--results", kind="file", help="also write Gradescope's results.json here")
    gr.add_argument("--time-limit", type=float, default=None, help="seconds per test (default: the exercise's)")
    gr.add_argument("--isolation", choices=ISOLATION, default="auto",
                    help="how the student's code is sandboxed: namespace (Linux: its own file system view, no "
                         "numpy_ae, no network, PID namespace), user (a grader running as root: the student's "
                         "process runs as nobody), none (limits only); auto: the strongest available")
    gr.add_argument("--require-isolation", action="store_true",
                    help="refuse to grade without a sandbox (what a course's autograder should pass)")


cmd_assignment.configure = _configure
