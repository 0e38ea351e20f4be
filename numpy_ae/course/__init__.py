r"""Course tooling: assignments generated from the library, graded by its gradient checks.

* :mod:`numpy_ae.course.exercises`: the catalogue (what each exercise copies, blanks and tests);
* :mod:`numpy_ae.course.blank`: blank function bodies with :mod:`ast`, docstrings kept;
* :mod:`numpy_ae.course.package`: ``assignment create``, the self-contained student package;
* :mod:`numpy_ae.course.grade`: the autograder, a security boundary: the trusted side
  (:mod:`numpy_ae.course.harness`: the checker and the reference values; :mod:`numpy_ae.course.remote`:
  the proxies and the session) runs the tests and writes the results; the student's code runs only in
  :mod:`numpy_ae.course.child`, started by :mod:`numpy_ae.course.sandbox` (namespaces, limits) and
  reached in data only;
* :mod:`numpy_ae.course.gradescope`: the Gradescope autograder zip (``setup.sh``, ``run_autograder``, in
  ``gradescope_files/``) and the grading step ``run_autograder`` runs;
* :mod:`numpy_ae.course.nbgrader_source`: nbgrader's source version of an exercise (solution cells, graded
  cells); :mod:`numpy_ae.course.solution_cells`: the solution cells' ``@solution`` (copied into the student
  package); :mod:`numpy_ae.course.nbcheck`: what the graded cells run, the sandboxed grader.

Command line: ``python -m numpy_ae assignment list|create|grade`` (:mod:`numpy_ae.experiments.assignment`).
"""
