"""The stages of a study, in order: select -> train -> eval -> judge -> review -> report."""

from harness.study.stage import Stage
from harness.study.stages import evaluate, judge, report, review, select, train

STAGES: tuple[Stage, ...] = (
    select.STAGE,
    train.STAGE,
    evaluate.STAGE,
    judge.STAGE,
    review.STAGE,
    report.STAGE,
)
NAMES: tuple[str, ...] = tuple(stage.name for stage in STAGES)
BY_NAME: dict[str, Stage] = {stage.name: stage for stage in STAGES}
