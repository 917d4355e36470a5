"""The `spark-articulate eval` verb's body: options from argparse, a progress bar, a summary."""

from __future__ import annotations

import shlex

from spark_blender.evaluation.console import ProgressBar
from spark_blender.evaluation.runner import EvalError, EvalOptions, run_evaluation
from spark_blender.evaluation.summary import overall_line, summarise


def run_eval_verb(args, user_error: type[Exception]) -> int:
    """Run the benchmark; bad options or cases raise `user_error` (one line, exit 2)."""
    options = EvalOptions(
        cases_dir=args.cases,
        out_dir=args.out,
        predictions_dir=args.predictions,
        baseline=args.baseline,
        parser=args.parser,
        moved_image_oracle=args.moved_image_oracle,
        reconstruct_args=shlex.split(args.reconstruct_args or ""),
        limit=args.limit,
        jobs=args.jobs,
        timeout=args.timeout,
        simcheck=not args.no_simcheck,
        render=not args.no_render,
        retry_failed=args.retry_failed,
        seed=args.seed,
    )
    try:
        run = run_evaluation(options, ProgressBar())
    except EvalError as exc:
        raise user_error(str(exc)) from exc
    print(overall_line(summarise(run.records)))
    print(f"report: {options.out_dir / 'report.html'} ({run.evaluated} cases evaluated now)")
    return 0
