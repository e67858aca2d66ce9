"""``forecasting backtest crossover``: replay the crossover estimate as of past dates and score it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .app import DbOption, FormatOption, ModelsOption, backtest_app, model_list, print_table, progress_bar, resolve_db

if TYPE_CHECKING:
    import pandas as pd


@backtest_app.command("crossover")
def crossover(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="CSV of every replay's score on every later figure (- for stdout).", dir_okay=False
        ),
    ] = None,
    moves: Annotated[
        Path | None,
        typer.Option(
            "--moves",
            help="CSV of the crossover P10/P50/P90 per replay, definition and sector (- for stdout).",
            dir_okay=False,
        ),
    ] = None,
    definition: Annotated[
        str | None, typer.Option("--definition", help="Score and show one definition only (default: all).")
    ] = None,
    first: Annotated[str, typer.Option("--from", help="First as-of quarter, e.g. 2022Q4.")] = "2022Q4",
    models: ModelsOption = None,
    db: DbOption = None,
    fmt: FormatOption = None,
) -> None:
    """Re-run the estimate as of every quarter end since --from with the figures public then, and score it.

    Each replay is stored as a run of kind 'replay' (`forecasting vintage list` shows them; the
    published run is untouched). Prints the pooled scores; the results are the same from the same data.
    """
    from .. import backtest, export
    from ..config import Settings
    from .output import STDIO, note, refuse_overwriting, write_bytes

    stdout_taken = _check_options(output, moves, definition, fmt)
    path = resolve_db(db)
    for target in (output, moves):
        refuse_overwriting(target, path, "the database")
    with progress_bar("replaying") as advance:
        backtest.run(path, Settings.from_env(), first, models=model_list(models), progress=advance)
    result = backtest.load(path, definition)
    if output is not None:
        write_bytes(output, export.to_csv(result.scores))
    if moves is not None:
        write_bytes(moves, export.to_csv(result.moves))
    if not stdout_taken:
        pooled = result.pooled if fmt else _rounded(result.pooled)
        print_table(
            pooled, title=f"Crossover backtest: {result.scores['as_of'].nunique()} replays, pooled scores", fmt=fmt
        )
    kept = result.widening[result.widening["chosen"]].iloc[0]
    note(
        f"scored {len(result.scores)} later figures"
        + "".join(f"; wrote {file}" for file in (output, moves) if file is not None)
        + f". Interval rule (docs/data.md section 5): factor {kept['factor']:g} kept "
        f"(80% coverage {kept['coverage_80']:.2f}, 95% {kept['coverage_95']:.2f}).",
        STDIO if fmt or stdout_taken else None,
    )


def _check_options(output: Path | None, moves: Path | None, definition: str | None, fmt: str | None) -> bool:
    """Refuse bad options before any replay is run and stored; whether a file goes to stdout.

    When one does, the pooled table is not printed (it would corrupt the file).
    """
    from ..share import DEFINITIONS
    from .output import check_folder, check_format, is_stdio, refuse_binary_on_terminal

    if definition is not None and definition not in DEFINITIONS:
        raise ValueError(f"unknown definition '{definition}'; choose one of {list(DEFINITIONS)}")
    if output is not None and moves is not None and output.resolve() == moves.resolve():
        raise ValueError(f"--output and --moves both name {output}: give each its own file (at most one can be -)")
    stdout_taken = is_stdio(output) or is_stdio(moves)
    table_format = check_format(fmt)
    if table_format is not None and not stdout_taken:
        refuse_binary_on_terminal(table_format)
    check_folder(output)
    check_folder(moves)
    return stdout_taken


#: Decimals of each pooled score in the printed table (shares to 2, scores to 3).
_DIGITS = {
    "coverage_80": 2,
    "coverage_95": 2,
    "prob_true": 2,
    "prob_crossed_event": 2,
    "interval_score_95": 3,
    "crps": 3,
}


def _rounded(pooled: pd.DataFrame) -> pd.DataFrame:
    """The pooled scores as shown in a table: rounded as :data:`_DIGITS` says, blanks for missing."""
    return pooled.assign(
        **{col: pooled[col].map(lambda v, d=d: "" if v != v else f"{v:.{d}f}") for col, d in _DIGITS.items()}
    )
