"""The `diq` command line.

Subcommands live in their own modules and are imported only when invoked, so that
`diq --help` does not pay for torch, transformers or Inspect.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from harness.core.errors import DiqError

# name -> ("module:attribute" of a click command, one-line help); one line per stage of the study
COMMANDS: dict[str, tuple[str, str]] = {
    "select": (
        "harness.cli.select:select",
        "Score a pool (difficulty, influence) and write DIQ and baseline subsets.",
    ),
    "train": (
        "harness.cli.train:train",
        "Fine-tune one model per subset (TRL + peft + accelerate).",
    ),
    "eval": (
        "harness.cli.eval:eval_group",
        "Run benchmark suites with Inspect; draw validation items.",
    ),
    "report": (
        "harness.cli.report:report",
        "Paired statistics and the self-contained HTML report.",
    ),
    "review": (
        "harness.cli.review:review_group",
        "Export blinded physician rater sheets; import ratings.",
    ),
    "run": ("harness.cli.run:run", "Run (or resume) a whole study from an experiment config."),
    "demo": (
        "harness.cli.demo:demo",
        "The whole study offline on synthetic data and a tiny model.",
    ),
    "config": ("harness.cli.config:config", "Print the documented example config, or check one."),
    "convert": (
        "harness.cli.convert:convert",
        "Convert a GGUF file into a checkpoint directory (or fetch the pinned SmolLM2).",
    ),
    "tiny-model": (
        "harness.cli.tiny_model:tiny_model",
        "Build the embedded tiny model from texts (no download).",
    ),
}


class UserError(click.ClickException):
    """A `DiqError` as click shows it: one line on stderr, exit status 2."""

    exit_code = 2


class LazyGroup(click.Group):
    """A click group that imports each subcommand's module on first use."""

    def __init__(self, *args: Any, lazy: dict[str, tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module_name, attribute = self.lazy[cmd_name][0].split(":")
            return getattr(importlib.import_module(module_name), attribute)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self.lazy[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DiqError as error:
            raise UserError(str(error)) from error
        except click.UsageError as error:  # one line, like every other error
            hint = f" (see '{error.ctx.command_path} --help')" if error.ctx else ""
            raise UserError(error.format_message() + hint) from error


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="diq-harness")
def main() -> None:
    """diq: select medical SFT data with DIQ, fine-tune on it, evaluate, judge and report."""
