"""`python -m rca` is the same as the `rca` console script."""

from rca.cli import main

main()
