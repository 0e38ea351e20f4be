r"""Course tooling: assignments generated from the library, graded by its gradient checks.

* :mod:`numpy_ae.course.exercises`: the catalogue (what each exercise copies, blanks and tests);
* :mod:`numpy_ae.course.blank`: blank function bodies with :mod:`ast`, docstrings kept;
* :mod:`numpy_ae.course.package`: ``assignment create``, the self-contained student package;
* :mod:`numpy_ae.course.grade` and :mod:`numpy_ae.course.runner`: the autograder;
* :mod:`numpy_ae.course.harness`: the trusted checker applied to a student's layers.

Command line: ``python -m numpy_ae assignment list|create|grade`` (:mod:`numpy_ae.experiments.assignment`).
"""
