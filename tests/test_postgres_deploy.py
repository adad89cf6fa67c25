"""deploy/: the compose example agrees with the code. There is no Docker daemon here, so the files are
read, not run: every PLATEAU_* variable it sets is a setting, the app servers are built from the
repository's Dockerfile and point at the database services, nginx sends to the app servers' port,
and every ${VARIABLE} it needs is in env.example."""

import re
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from app.config import Settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
COMPOSE = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
APPS = [name for name, service in SERVICES.items() if name.startswith("app")]
SETTINGS = {f"PLATEAU_{name.upper()}" for name in Settings.model_fields}


EXAMPLE = dict(re.findall(r"^([A-Z_]+)=(.*)$", (DEPLOY / "env.example").read_text(), re.M))


def environment(service: dict) -> dict[str, str]:
    """A service's variables as compose passes them, with env.example's values put in."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {
        key: re.sub(r"\$\{([A-Z_]+)[^}]*\}", lambda m: EXAMPLE[m.group(1)], str(value)) for key, value in env.items()
    }


def test_two_app_servers_built_from_the_repository_dockerfile():
    assert len(APPS) >= 2
    for name in APPS:
        build = SERVICES[name]["build"]
        context = (DEPLOY / build["context"]).resolve()
        assert context == ROOT and (context / build["dockerfile"]).is_file(), name
        assert "8000" in [str(port) for port in SERVICES[name]["expose"]]
        assert "EXPOSE 8000" in (ROOT / "Dockerfile").read_text()


def test_every_plateau_variable_is_a_setting():
    texts = [(DEPLOY / "compose.yaml").read_text(), (DEPLOY / "env.example").read_text()]
    used = {name for text in texts for name in re.findall(r"\bPLATEAU_[A-Z_]+\b", text)}
    assert used and used <= SETTINGS, used - SETTINGS


def test_app_servers_write_to_the_primary_and_read_from_the_replica():
    databases = {name for name, service in SERVICES.items() if "postgres" in str(service.get("image", ""))}
    assert {"db", "db-replica"} <= databases
    for name in APPS:
        env = environment(SERVICES[name])
        primary, replica = urlsplit(env["PLATEAU_DATABASE_URL"]), urlsplit(env["PLATEAU_READ_DATABASE_URL"])
        assert primary.scheme == replica.scheme == "postgresql+psycopg"
        assert (primary.hostname, replica.hostname) == ("db", "db-replica")
        assert primary.path == replica.path == f"/{environment(SERVICES['db'])['POSTGRES_DB']}"
        assert primary.username == environment(SERVICES["db"])["POSTGRES_USER"]
        assert primary.port == replica.port == 5432
        assert set(SERVICES[name]["depends_on"]) == {"db", "db-replica"}
        assert env["PLATEAU_ADMIN_TOKEN"] == EXAMPLE["PLATEAU_ADMIN_TOKEN"]
        assert primary.password == replica.password == EXAMPLE["POSTGRES_PASSWORD"]


def test_the_replica_streams_from_the_primary():
    replica = SERVICES["db-replica"]
    assert environment(replica)["PRIMARY_HOST"] == "db"
    script = (DEPLOY / "postgres" / "replica.sh").read_text()
    assert "pg_basebackup" in script and " -R " in script and "hot_standby=on" in script
    primary_command = " ".join(SERVICES["db"]["command"])
    assert "wal_level=replica" in primary_command
    assert "REPLICATION" in (DEPLOY / "postgres" / "primary-init.sh").read_text()


def test_the_load_balancer_sends_to_every_app_server():
    nginx = (DEPLOY / "nginx.conf").read_text()
    assert sorted(re.findall(r"server (app\d+):8000;", nginx)) == sorted(APPS)
    assert "X-Forwarded-For" in nginx
    assert any(str(port).endswith(":80") for port in SERVICES["lb"]["ports"])
    for name in APPS:
        assert environment(SERVICES[name])["PLATEAU_TRUSTED_PROXIES"]  # X-Forwarded-* believed from nginx


def test_every_mounted_file_and_needed_variable_exists():
    for service in SERVICES.values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (DEPLOY / source).is_file(), source
        if isinstance(service.get("build"), str):
            assert (DEPLOY / service["build"] / "Dockerfile").is_file()
    needed = set(re.findall(r"\$\{([A-Z_]+)", (DEPLOY / "compose.yaml").read_text()))
    assert needed == set(EXAMPLE), needed ^ set(EXAMPLE)
