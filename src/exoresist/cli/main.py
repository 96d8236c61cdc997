"""The ``exoresist`` command. Each stage adds its own sub-command group; none holds logic."""

from __future__ import annotations

import typer

from exoresist import __version__
from exoresist.cli import biomarker, experiments, graph, kb, model, names, serve, trial
from exoresist.cli.common import fail_on_errors

app = typer.Typer(
    name="exoresist",
    help="Exosome-mediated therapy resistance in hepatocellular carcinoma: knowledge base and models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(kb.app, name="kb")
app.add_typer(graph.app, name="graph")
app.add_typer(model.app, name="model")
app.add_typer(experiments.app, name="experiments")
app.add_typer(trial.app, name="trial")
app.add_typer(biomarker.app, name="biomarker")
app.command("demo")(trial.demo_command)
app.command("simulate")(fail_on_errors(model.simulate_command))
app.command("serve")(serve.serve_command)
app.command("names")(names.names_command)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"exoresist {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """exoresist command line."""


if __name__ == "__main__":  # pragma: no cover
    app()
