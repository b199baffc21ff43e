"""The deployment files agree with the code they deploy.

.env.example, Dockerfile, .dockerignore and docker-compose.yml are read as text: no Docker engine
and no database are needed. PyYAML is not a dependency, so docker-compose.yml is split into
service blocks by indentation (the file keeps to two-space indentation and JSON-style lists).
"""

import fnmatch
import importlib
import json
import re
import shlex
from pathlib import Path

from celery.app.utils import find_app
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import get_commands
from django.urls import resolve

import dsr.celery
from dsr.views import pages as views

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_SOURCE = (ROOT / "dsr" / "settings.py").read_text()
ENV_EXAMPLE = (ROOT / ".env.example").read_text()
DOCKERFILE = (ROOT / "Dockerfile").read_text()
DOCKERIGNORE = (ROOT / ".dockerignore").read_text()
COMPOSE = (ROOT / "docker-compose.yml").read_text()

SERVICES = {"web", "worker", "beat", "db", "redis"}

# env("NAME", ...), env.str("NAME", ...), env.db("NAME", ...), env.email_url("NAME", ...)...
ENV_CALL = re.compile(r"""\benv(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]*)["']""")
ANY_ENV_CALL = re.compile(r"\benv(?:\.\w+)?\(")
# NAME=value, or "# NAME=default" for an optional variable shown with its default.
ENV_EXAMPLE_LINE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)
# ${NAME}, ${NAME:-default}, ${NAME:?message}; "$$" is Compose's escape for a literal "$".
COMPOSE_SUBSTITUTION = re.compile(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)")
HEALTH_URL = re.compile(r"http://127\.0\.0\.1:8000(/[^'\"\s]*)")


# --- helpers ---------------------------------------------------------------------------------


def settings_variables() -> set[str]:
    return set(ENV_CALL.findall(SETTINGS_SOURCE))


def documented_variables() -> set[str]:
    """Names in .env.example, with NAME_FILE (FileAwareEnv's secret-file form) folded into NAME."""
    names = set()
    for name in ENV_EXAMPLE_LINE.findall(ENV_EXAMPLE):
        base = name.removesuffix("_FILE")
        names.add(base if name.endswith("_FILE") and base in settings_variables() else name)
    return names


def compose_substitutions() -> set[str]:
    return set(COMPOSE_SUBSTITUTION.findall(COMPOSE))


def compose_services() -> dict[str, str]:
    """Each service under the top-level `services:` key, as its block of text without comments."""
    lines = COMPOSE.splitlines()
    blocks: dict[str, list[str]] = {}
    current = None
    for line in lines[lines.index("services:") + 1 :]:
        if line and not line[0].isspace() and not line.startswith("#"):
            break  # the next top-level key
        if line.lstrip().startswith("#"):
            continue
        service = re.match(r"^  ([A-Za-z0-9_-]+):\s*$", line)
        if service:
            current = service.group(1)
            blocks[current] = []
        elif current:
            blocks[current].append(line)
    return {name: "\n".join(block) for name, block in blocks.items()}


def compose_command(block: str) -> list[str]:
    """A service's `command:` (a JSON-style list or a plain string), as arguments."""
    match = re.search(r"^    command:(.*(?:\n      .*)*)", block, re.MULTILINE)
    if not match:
        return []
    value = " ".join(part.strip() for part in match.group(1).splitlines()).strip()
    return json.loads(value) if value.startswith("[") else shlex.split(value)


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    instructions = []
    pending = ""
    for line in DOCKERFILE.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).strip().partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def dockerfile_cmd() -> list[str]:
    arguments = [args for keyword, args in final_stage() if keyword == "CMD"][-1]
    return json.loads(arguments)


def dockerignore_patterns() -> list[str]:
    return [
        line.strip()
        for line in DOCKERIGNORE.splitlines()
        if line.strip() and not line.startswith("#")
    ]


# --- .env.example ----------------------------------------------------------------------------


def test_settings_read_every_variable_by_a_literal_name():
    assert len(ENV_CALL.findall(SETTINGS_SOURCE)) == len(ANY_ENV_CALL.findall(SETTINGS_SOURCE))
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "EMAIL_URL"} <= settings_variables()


def test_env_example_documents_every_variable_settings_read():
    missing = settings_variables() - documented_variables()
    assert not missing, f"add to .env.example: {sorted(missing)}"


def test_env_example_documents_only_variables_settings_or_compose_read():
    stale = documented_variables() - settings_variables() - compose_substitutions()
    assert not stale, f"read by nothing: {sorted(stale)}"


def test_every_compose_substitution_is_documented_in_env_example():
    undocumented = compose_substitutions() - documented_variables()
    assert not undocumented, f"add to .env.example: {sorted(undocumented)}"


def test_each_env_example_variable_states_its_default_and_whether_production_needs_it():
    for paragraph in re.split(r"\n\s*\n", ENV_EXAMPLE):
        if ENV_EXAMPLE_LINE.search(paragraph):
            assert "Default:" in paragraph, paragraph
            assert "Production:" in paragraph, paragraph


def test_env_example_mentions_the_file_form_for_secrets():
    assert "_FILE" in ENV_EXAMPLE
    assert "SECRET_KEY_FILE=" in ENV_EXAMPLE


def test_env_example_ships_no_usable_secret():
    assert re.search(r"^SECRET_KEY=$", ENV_EXAMPLE, re.MULTILINE)
    assert re.search(r"^POSTGRES_PASSWORD=$", ENV_EXAMPLE, re.MULTILINE)
    assert re.search(r"^DEBUG=false$", ENV_EXAMPLE, re.MULTILINE)


# --- docker-compose.yml ----------------------------------------------------------------------


def test_compose_defines_the_five_production_services():
    assert set(compose_services()) >= SERVICES


def test_every_compose_service_has_a_health_check():
    services = compose_services()
    for name in SERVICES:
        assert re.search(r"^    healthcheck:\n      test:", services[name], re.MULTILINE), name


def test_redis_keeps_queued_tasks_on_disk_and_never_evicts_them():
    command = " ".join(compose_command(compose_services()["redis"]))
    assert "--appendonly yes" in command
    assert "--maxmemory-policy noeviction" in command


def test_exactly_one_service_runs_celery_beat():
    commands = {name: compose_command(block) for name, block in compose_services().items()}
    beats = [name for name, cmd in commands.items() if cmd[:1] == ["celery"] and "beat" in cmd]
    assert beats == ["beat"]
    assert re.search(r"^    deploy:\n      replicas: 1$", compose_services()["beat"], re.MULTILINE)


def test_no_worker_embeds_a_second_beat():
    for name, block in compose_services().items():
        command = compose_command(block)
        assert "-B" not in command and "--beat" not in command, name


def test_worker_runs_celery_worker_and_its_health_check_pings_itself():
    worker = compose_services()["worker"]
    assert compose_command(worker)[:4] == ["celery", "-A", "dsr", "worker"]
    assert "inspect ping -d celery@$$HOSTNAME" in worker


def test_migrations_run_once_before_web_and_worker_start():
    services = compose_services()
    assert compose_command(services["migrate"]) == ["python", "manage.py", "migrate", "--noinput"]
    for name in ("web", "worker"):
        assert re.search(
            r"migrate:\n\s+condition: service_completed_successfully", services[name]
        ), name


def test_application_services_wait_for_a_healthy_database_and_redis():
    services = compose_services()
    for name in ("web", "worker"):
        for dependency in ("db", "redis"):
            assert re.search(
                rf"^      {dependency}:\n\s+condition: service_healthy", services[name], re.M
            ), (name, dependency)


def test_only_web_publishes_a_port():
    services = compose_services()
    assert [name for name, block in services.items() if "ports:" in block] == ["web"]


def test_compose_requires_a_secret_key_and_points_the_app_at_its_own_services():
    assert "SECRET_KEY: ${SECRET_KEY:?" in COMPOSE
    assert re.search(r"DATABASE_URL: postgres://.+@db:5432/", COMPOSE)
    assert "REDIS_URL: redis://redis:6379/" in COMPOSE
    assert "env_file: .env" in COMPOSE


def test_database_and_redis_keep_their_data_in_named_volumes():
    services = compose_services()
    assert "postgres-data:/var/lib/postgresql/data" in services["db"]
    assert "redis-data:/data" in services["redis"]
    assert re.search(r"^volumes:\n(  .*\n)*  postgres-data:", COMPOSE, re.MULTILINE)
    assert re.search(r"^volumes:\n(  .*\n)*  redis-data:", COMPOSE, re.MULTILINE)


def test_database_and_redis_images_are_the_supported_versions():
    services = compose_services()
    assert "image: postgres:15" in services["db"]
    assert "pg_isready" in services["db"]
    assert "image: redis:7" in services["redis"]
    assert "redis-cli ping" in services["redis"]


# --- what the commands point at --------------------------------------------------------------


def test_gunicorn_target_in_the_dockerfile_is_the_wsgi_application():
    target = next(arg for arg in dockerfile_cmd() if ":" in arg and not arg[0].isdigit())
    module_name, attribute = target.split(":")
    module = importlib.import_module(module_name)
    assert hasattr(module, attribute), target
    application = getattr(module, attribute)
    assert target == "dsr.wsgi:application"
    assert settings.WSGI_APPLICATION == "dsr.wsgi.application"
    assert isinstance(application, WSGIHandler)
    assert callable(application)


def test_celery_app_named_in_compose_is_the_dsr_celery_app():
    names = set(re.findall(r"""-A(?:",\s*"|\s+)([\w.:]+)""", COMPOSE))
    assert names == {"dsr"}
    for name in names:
        app = find_app(name)
        assert app is dsr.celery.app
        assert app.main == "dsr"


def test_manage_py_and_the_management_commands_the_deployment_runs_exist():
    assert (ROOT / "manage.py").is_file()
    assert {"migrate", "collectstatic"} <= set(get_commands())


def test_health_check_urls_resolve_to_the_health_view():
    paths = HEALTH_URL.findall(DOCKERFILE) + HEALTH_URL.findall(COMPOSE)
    assert len(paths) >= 2
    for path in paths:
        match = resolve(path)
        assert match.url_name == "health"
        assert match.func is views.health


# --- Dockerfile ------------------------------------------------------------------------------


def test_image_runs_as_a_non_root_user():
    users = [args for keyword, args in final_stage() if keyword == "USER"]
    assert users
    assert users[-1].split(":")[0] not in {"root", "0"}


def test_image_cmd_runs_gunicorn_on_all_interfaces_port_8000():
    cmd = dockerfile_cmd()
    assert cmd[0] == "gunicorn"
    assert "dsr.wsgi:application" in cmd
    assert cmd[cmd.index("--bind") + 1] == "0.0.0.0:8000"


def test_image_sets_a_gunicorn_worker_count():
    env = " ".join(args for keyword, args in final_stage() if keyword == "ENV")
    count = re.search(r"\bWEB_CONCURRENCY=(\d+)", env)
    assert "--workers" in dockerfile_cmd() or (count and 2 <= int(count.group(1)) <= 16)


def test_image_is_python_311_slim_without_node_and_with_unbuffered_python():
    stage = final_stage()
    assert stage[0] == ("FROM", "python:3.11-slim AS runtime")
    env = " ".join(args for keyword, args in stage if keyword == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env
    assert "PYTHONUNBUFFERED=1" in env
    assert not any("npm" in args or "node:" in args for keyword, args in stage if keyword == "RUN")


def test_node_runs_only_in_a_build_stage_that_installs_production_packages():
    instructions = dockerfile_instructions()
    node_stages = [args for keyword, args in instructions if keyword == "FROM" and "node:" in args]
    assert len(node_stages) == 1
    stage_name = node_stages[0].split()[-1]
    assert ("RUN", "npm ci --omit=dev --ignore-scripts --no-audit --no-fund") in instructions
    assert any(
        keyword == "COPY" and args.startswith(f"--from={stage_name} ") and "nhsuk-frontend" in args
        for keyword, args in final_stage()
    )


def test_image_copies_the_nhsuk_frontend_folder_settings_collect_static_from():
    nhsuk_source = dict(d for d in settings.STATICFILES_DIRS if isinstance(d, tuple))["nhsuk"]
    relative = Path(nhsuk_source).relative_to(settings.BASE_DIR)
    copy = next(args for keyword, args in final_stage() if keyword == "COPY" and "nhsuk" in args)
    destination = copy.split()[-1]
    assert relative.as_posix().startswith(destination.removeprefix("./"))


def test_project_is_installed_with_pip_without_dev_extras():
    runs = [args for keyword, args in dockerfile_instructions() if keyword == "RUN"]
    assert "pip install ." in runs
    assert not any("[dev]" in run or "-e " in run for run in runs)


def test_static_files_are_collected_at_build_with_debug_off_and_a_long_enough_throwaway_key():
    run = next(args for keyword, args in final_stage() if "collectstatic --noinput" in args)
    assert "DEBUG=false" in run
    key = re.search(r"SECRET_KEY=(\S+)", run).group(1)
    assert len(key) >= 50  # dsr/settings.py refuses shorter keys when DEBUG is off
    assert "SECRET_KEY" not in " ".join(args for keyword, args in final_stage() if keyword == "ENV")


def test_image_health_check_uses_python_not_curl():
    healthchecks = [args for keyword, args in final_stage() if keyword == "HEALTHCHECK"]
    assert len(healthchecks) == 1
    assert '"python", "-c"' in healthchecks[0]
    assert "curl" not in healthchecks[0]


def test_files_the_dockerfile_copies_from_the_build_context_exist_and_are_not_ignored():
    ignored = dockerignore_patterns()
    for keyword, args in dockerfile_instructions():
        if keyword != "COPY" or args.startswith("--from="):
            continue
        *sources, _destination = args.split()
        for source in sources:
            if source == "." or "[" in source:
                continue  # the whole context, or an optional file (README.m[d])
            assert (ROOT / source).exists(), source
            assert not any(fnmatch.fnmatch(source, pattern) for pattern in ignored), source


def test_dockerignore_keeps_secrets_environments_and_local_state_out_of_the_build():
    patterns = set(dockerignore_patterns())
    expected = {".env", ".venv", "node_modules", ".git", "var", "db.sqlite3*", "staticfiles"}
    assert expected <= patterns
    assert {".pytest_cache", ".ruff_cache", "**/__pycache__", "test-artifacts"} <= patterns


def test_the_cache_is_a_different_redis_from_the_broker():
    """RELIABILITY G-2: a cache's evictions must never reach the broker's queued tasks."""
    services = compose_services()
    assert "CACHE_URL: redis://cache:6379/0" in COMPOSE
    assert "REDIS_URL: redis://redis:6379/0" in COMPOSE
    assert "allkeys-lru" in services["cache"]
    assert "noeviction" in services["redis"]
