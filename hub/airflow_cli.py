"""``hub airflow-config``: an ``airflow.cfg`` for operators who run Airflow themselves.

The file is Airflow's own default configuration (written by Airflow in a clean process, with its
generated secrets), with the options of ``hub.airflow_env.airflow_options`` set: the hub's DAG
folder, no example DAGs, the metadata database in the Airflow home, the simple auth manager, the
OpenLineage transport, and a ``[hub]`` section with the environment the hub's tasks need. The
embedded runs of ``hub ingest`` take the same options as environment variables.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from hub import airflow_env
from hub.errors import ConfigError
from hub.settings import Settings, get_settings

# what the ``airflow`` command does before its first command in a new AIRFLOW_HOME
WRITE_DEFAULTS = "from airflow.configuration import write_default_airflow_configuration_if_needed as w; w()"
HEADER = "# Written by `hub airflow-config`: Airflow's defaults with the hub's options set.\n"
_OPTION = re.compile(r"^(?:#\s*)?([a-z0-9_]+)\s*=")


def set_options(text: str, options: dict[tuple[str, str], str]) -> str:
    """``text`` (an ``airflow.cfg``) with each (section, key) set: the key's line, commented out or
    not, becomes ``key = value``; a key or section the file lacks is added."""
    wanted: dict[str, dict[str, str]] = {}
    for (section, key), value in options.items():
        wanted.setdefault(section, {})[key] = value.replace("%", "%%")  # Airflow interpolates %
    out: list[str] = []
    section = ""

    def close(section: str) -> None:
        missing = wanted.get(section, {})
        if missing:
            while out and not out[-1].strip():
                out.pop()
            out.extend(f"{k} = {v}" for k, v in missing.items())
            out.append("")
        wanted.pop(section, None)

    for line in text.splitlines():
        header = re.match(r"^\[([^\]]+)\]\s*$", line)
        if header:
            close(section)
            section = header.group(1)
            out.append(line)
            continue
        match = _OPTION.match(line)
        if match and match.group(1) in wanted.get(section, {}):
            key = match.group(1)
            out.append(f"{key} = {wanted[section].pop(key)}")
            continue
        out.append(line)
    close(section)
    for name in list(wanted):
        out += ["", f"[{name}]", *(f"{k} = {v}" for k, v in wanted.pop(name).items())]
    return "\n".join(out) + "\n"


def airflow_defaults(home: Path) -> str:
    """Airflow's default ``airflow.cfg`` for ``home``, as Airflow itself writes it on first use."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env["AIRFLOW_HOME"] = str(home)
    done = subprocess.run(
        [sys.executable, "-c", WRITE_DEFAULTS],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    cfg = home / "airflow.cfg"
    if done.returncode != 0 or not cfg.exists():
        raise ConfigError(f"Airflow did not write its default configuration in {home}:\n{done.stderr[-2000:]}")
    return cfg.read_text(encoding="utf-8")


def write_config(settings: Settings, force: bool = False) -> Path:
    """Write ``airflow.cfg`` into ``settings.airflow_home`` and create (or upgrade) the metadata
    database; refuse to replace a file unless ``force`` (the old one is kept as ``airflow.cfg.bak``)."""
    home = settings.airflow_home
    cfg = home / "airflow.cfg"
    if cfg.exists():
        if not force:
            by = "hub airflow-config" if cfg.read_text(encoding="utf-8").startswith(HEADER) else "someone else"
            raise ConfigError(f"{cfg} exists (written by {by}); pass --force to replace it (kept as airflow.cfg.bak)")
        cfg.replace(cfg.with_name("airflow.cfg.bak"))
    home.mkdir(parents=True, exist_ok=True)
    settings.lineage_file.parent.mkdir(parents=True, exist_ok=True)
    settings.lineage_file.parent.chmod(0o700)
    text = HEADER + set_options(airflow_defaults(home), airflow_env.airflow_options(settings))
    cfg.write_text(text, encoding="utf-8")
    cfg.chmod(0o600)  # it holds Airflow's generated secrets
    airflow_env.ensure_db(settings)
    parse_dags(settings)  # so `airflow dags list` shows them before a dag-processor ever ran
    return cfg


def parse_dags(settings: Settings) -> None:
    """Parse the DAG folder into the metadata database (``airflow dags reserialize``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env["AIRFLOW_HOME"] = str(settings.airflow_home)
    done = subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "reserialize"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if done.returncode != 0:
        raise ConfigError(f"airflow dags reserialize failed:\n{done.stderr[-2000:]}")


def airflow_config(
    home: Annotated[
        Path | None, typer.Option(help="Airflow's home (AIRFLOW_HOME) to write into; default HUB_HOME/airflow.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing airflow.cfg (kept as airflow.cfg.bak).")] = False,
) -> None:
    """Write an airflow.cfg that runs the hub's DAGs in plain Airflow (`airflow standalone`, the UI)."""
    settings = get_settings()
    settings.ensure_dirs()
    if home is not None:
        settings = settings.model_copy(update={"airflow_home_dir": home.expanduser().resolve()})
    cfg = write_config(settings, force=force)
    options = airflow_env.airflow_options(settings)
    bin_dir = Path(sys.executable).parent
    typer.echo(f"wrote {cfg}")
    typer.echo(f"  DAGs:      {options[('core', 'dags_folder')]} (example DAGs off)")
    typer.echo(f"  database:  {options[('database', 'sql_alchemy_conn')]}")
    typer.echo(f"  lineage:   {options[('openlineage', 'transport')]}")
    typer.echo(f"  HUB_HOME:  {settings.resolved_home}")
    typer.echo("Next, in your shell:")
    typer.echo(f"  export AIRFLOW_HOME={settings.airflow_home} PATH={bin_dir}:$PATH")
    typer.echo("  airflow dags list")
    typer.echo("  airflow standalone    # scheduler, DAG processor, triggerer, UI on http://localhost:8080, user admin")
    typer.echo(
        f"The password of admin is in {options[('core', 'simple_auth_manager_passwords_file')]} once it started."
    )
