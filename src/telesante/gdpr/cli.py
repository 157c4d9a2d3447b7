import click


@click.group()
def export() -> None:
    """Data exports."""
