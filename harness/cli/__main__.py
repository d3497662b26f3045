"""`python -m harness.cli`: the `diq` command."""

from harness.cli import main

main()
