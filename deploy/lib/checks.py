"""Consistency checks of the deployment artifacts, run by deploy/validate.

Schema validation is done by the tools deploy/validate installs (kubernetes-validate,
check-jsonschema, promtool, hadolint). This file checks what no schema knows: that references
resolve (depends_on, volumes, secrets, services, selectors, ports), that every pod is hardened
and drains within its grace period, that the CronJobs are shaped as documented, and that every
metric and label used by the dashboard and the alerts is one the services export.

Usage: checks.py SUBCOMMAND ROOT [ARGS...]
  dockerfile ROOT
  compose ROOT
  k8s ROOT BASE_RENDER.yaml OVERLAY_RENDER.yaml
  metrics ROOT PROMQL_RULES_OUT.yaml      (also writes the dashboard's queries as a rules file)
  prom-k8s ROOT OUT.yaml                  (prometheus-kubernetes.yml with its SD block stubbed)
  help-flags ROOT BASE_RENDER.yaml        (optional: manifests vs the built binaries' --help)

Exit status 1 when a check fails; every failure is printed.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

FAILURES: list[str] = []
PASSED: list[str] = []
VERBOSE = os.environ.get("DEPLOY_VALIDATE_VERBOSE") == "1"


def ok(msg: str) -> None:
    PASSED.append(msg)
    if VERBOSE:
        print(f"  ok    {msg}")


def fail(msg: str) -> None:
    FAILURES.append(msg)
    print(f"  FAIL  {msg}")


def note(msg: str) -> None:
    print(f"  note  {msg}")


def describe(msg: str) -> None:
    print(f"  checks: {msg}")


def check(cond: bool, msg: str) -> bool:
    if cond:
        ok(msg)
    else:
        fail(msg)
    return cond


# ---------------------------------------------------------------------------------------------
# What the binaries are: subcommands, and which ones serve HTTP on which default port.

BINARIES = {
    "webhook-ingest": {"serve", "migrate"},
    "job-runner": {"serve", "run-once", "migrate", "prune", "failed", "requeue"},
    "outbound-sender": {"serve", "migrate"},
    "staff-console": {"serve", "migrate", "create-user"},
    "whatsapp-fake": {None},
    "orchestrator-core": {"chat", "replay"},
}
DEFAULT_PORTS = {"webhook-ingest": 8080, "job-runner": 8081, "outbound-sender": 8082, "staff-console": 8083,
                 "whatsapp-fake": 8090}
# The services Prometheus scrapes (whatsapp-fake serves no /metrics): the `job` label of their
# series, which the alerts and the dashboard name.
SCRAPED = ("webhook-ingest", "job-runner", "outbound-sender", "staff-console")
# Paths that stay inside the cluster: no Ingress may route them.
INTERNAL_PATHS = ("/metrics", "/healthz", "/readyz")
# Read by the telemetry crate directly, not through clap, or by glibc's allocator.
NON_CLAP_ENV = {"RUST_LOG", "OTEL_TRACES_FILTER", "MALLOC_MMAP_THRESHOLD_"}


def split_command(cmd) -> tuple[str | None, str | None, list[str]]:
    if isinstance(cmd, str):
        cmd = shlex.split(cmd)
    if not cmd:
        return None, None, []
    binary = cmd[0].rsplit("/", 1)[-1]
    rest = [c for c in cmd[1:]]
    sub = rest[0] if rest and not rest[0].startswith("-") else None
    return binary, sub, rest


def check_command(where: str, cmd) -> tuple[str | None, str | None, list[str]]:
    binary, sub, rest = split_command(cmd)
    if binary not in BINARIES:
        fail(f"{where}: command {cmd!r} does not start with one of {sorted(BINARIES)}")
    elif sub not in BINARIES[binary]:
        fail(f"{where}: `{binary}` has no subcommand {sub!r}")
    else:
        ok(f"{where}: runs `{' '.join([binary] + rest)}`")
    return binary, sub, rest


# ---------------------------------------------------------------------------------------------
# Dockerfile and .dockerignore


def cmd_dockerfile(root: Path) -> None:
    describe("multi-stage; rust 1.95 builder; cargo-chef dependency layer and build with --locked; all six "
             "binaries in /usr/local/bin; slim runtime with ca-certificates and a numeric non-root USER; "
             ".dockerignore drops target/ and .git but keeps every workspace member, Cargo.lock, migrations/")
    text = (root / "deploy/docker/Dockerfile").read_text()
    # Join continuation lines, drop comments.
    logical = re.sub(r"\\\n", " ", "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#")))
    froms = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", logical, re.M | re.I)
    check(len(froms) >= 2, f"Dockerfile is multi-stage ({len(froms)} stages)")
    builder_images = [f for f, _ in froms if f.startswith("rust:")]
    check(bool(builder_images), f"a builder stage uses the official rust image ({builder_images})")
    args = dict(re.findall(r"^ARG\s+(\w+)=(\S+)", logical, re.M))
    check(args.get("RUST_VERSION", "").startswith("1.95"), f"RUST_VERSION is 1.95 (workspace rust-version): {args.get('RUST_VERSION')}")
    runtime_from = froms[-1][0]
    runtime_ok = "slim" in runtime_from or "distroless" in runtime_from
    check(runtime_ok, f"runtime stage is small (debian slim or distroless): {runtime_from}")
    runtime_text = logical.split(f"FROM {runtime_from}", 1)[-1]
    check("cargo chef cook" in logical and "--locked" in logical.split("cargo chef cook", 1)[1].split("\n", 1)[0],
          "dependency layer: `cargo chef cook --locked` before the sources are copied")
    cook_at = logical.find("cargo chef cook")
    copy_all = [m.start() for m in re.finditer(r"^COPY \. \.", logical, re.M)]
    check(any(c > cook_at for c in copy_all), "sources are copied after the dependency layer")
    build_line = next((l for l in logical.splitlines() if "cargo build" in l), "")
    check("--release" in build_line and "--locked" in build_line, "`cargo build --release --locked`")
    bins_arg = re.search(r'^ARG BINS="([^"]+)"', logical, re.M)
    bins_text = (bins_arg.group(1) if bins_arg else "") + " " + build_line
    copied = re.search(r"for bin in ([^;]+); do\s+cp \"target/release/\$\{bin\}\" /out/", logical)
    copied_bins = copied.group(1).split() if copied else []
    for b in BINARIES:
        check(f"--bin {b}" in bins_text, f"builds --bin {b}")
        check(b in copied_bins, f"{b} is staged in /out/ for the runtime image")
    check(re.search(r"COPY --from=\S+ /out/ /usr/local/bin/", runtime_text) is not None,
          "binaries land in /usr/local/bin")
    exposed = {int(p) for line in re.findall(r"^EXPOSE\s+(.+)$", runtime_text, re.M) for p in line.split()
               if p.isdigit()}
    check(set(DEFAULT_PORTS.values()) <= exposed,
          f"EXPOSE lists every service's default port ({sorted(exposed)})")
    check("ca-certificates" in runtime_text, "runtime installs ca-certificates")
    users = re.findall(r"^USER\s+(\S+)", runtime_text, re.M)
    uid = users[-1].split(":")[0] if users else ""
    check(uid.isdigit() and int(uid) != 0, f"runtime runs as a numeric non-root user ({users[-1] if users else 'none'})")
    distroless = "distroless" in runtime_from
    (root / "target/deploy-tools/.image-has-sleep").write_text("no" if distroless else "yes")

    ignore = [l.strip() for l in (root / ".dockerignore").read_text().splitlines() if l.strip() and not l.startswith("#")]
    norm = {l.rstrip("/").lstrip("/") for l in ignore}
    check("target" in norm, ".dockerignore excludes target/")
    check(".git" in norm, ".dockerignore excludes .git")
    cargo = (root / "Cargo.toml").read_text()
    members = re.search(r"members\s*=\s*\[([^\]]*)\]", cargo)
    needed = ["Cargo.toml", "Cargo.lock", "migrations"]
    if members:
        needed += [m.strip().strip('"').rstrip("/*").rstrip("/") for m in members.group(1).split(",") if m.strip()]
    for path in needed:
        hit = [pat for pat in norm if pat == path or pat == path.split("/")[0] or pat in ("*", "**")]
        check(not hit, f".dockerignore keeps {path} in the build context")


# ---------------------------------------------------------------------------------------------
# docker-compose.yml


def env_dict(env) -> dict[str, str]:
    if env is None:
        return {}
    if isinstance(env, list):
        out = {}
        for item in env:
            k, _, v = str(item).partition("=")
            out[k] = v
        return out
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def port_of(bind_addr: str) -> int | None:
    m = re.search(r":(\d+)$", bind_addr or "")
    return int(m.group(1)) if m else None


def cmd_compose(root: Path) -> None:
    describe("every service present; depends_on targets exist (healthy needs a healthcheck, completed needs "
             "no restart); named volumes declared, bind sources exist; one image from deploy/docker/Dockerfile; "
             "valid binary/subcommand; OTLP to jaeger, service name, JSON logs; BIND_ADDR vs published ports "
             "and healthchecks; stop_grace_period covers the drain; fake <-> ingest/sender secrets and URLs agree; "
             "console and sender read one template catalogue; secrets marked dev-only; prometheus targets and "
             "mounts; grafana provisioning paths")
    doc = yaml.safe_load((root / "docker-compose.yml").read_text())
    services = doc.get("services", {})
    volumes = set((doc.get("volumes") or {}).keys())
    check(bool(services), f"{len(services)} services")
    for want in ("postgres", "jaeger", "migrate", "webhook-ingest", "job-runner", "outbound-sender",
                 "staff-console", "whatsapp-fake", "prometheus", "grafana"):
        check(want in services, f"service {want} exists")

    images = set()
    for name, svc in services.items():
        for dep, spec in (svc.get("depends_on") or {}).items() if isinstance(svc.get("depends_on"), dict) else \
                [(d, {}) for d in svc.get("depends_on") or []]:
            if dep not in services:
                fail(f"{name}: depends_on unknown service {dep}")
                continue
            cond = (spec or {}).get("condition", "service_started")
            if cond == "service_healthy" and "healthcheck" not in services[dep]:
                fail(f"{name}: waits for {dep} to be healthy, but {dep} has no healthcheck")
            elif cond == "service_completed_successfully" and services[dep].get("restart", "no") not in ("no", "on-failure"):
                fail(f"{name}: waits for {dep} to complete, but {dep} restarts ({services[dep].get('restart')})")
            else:
                ok(f"{name}: depends_on {dep} ({cond})")
        for vol in svc.get("volumes") or []:
            src = vol.split(":")[0] if isinstance(vol, str) else vol.get("source")
            if src.startswith((".", "/")):
                p = (root / src).resolve() if not src.startswith("/") else Path(src)
                check(p.exists(), f"{name}: bind mount source {src} exists")
            else:
                check(src in volumes, f"{name}: named volume {src} is declared")
        if "build" in svc:
            b = svc["build"]
            dockerfile = b.get("dockerfile") if isinstance(b, dict) else None
            context = b.get("context", ".") if isinstance(b, dict) else b
            check(dockerfile == "deploy/docker/Dockerfile" and context == ".",
                  f"{name}: builds deploy/docker/Dockerfile from the repository root")
            images.add(svc.get("image"))
            binary, sub, rest = check_command(f"compose {name}", svc.get("command"))
            env = env_dict(svc.get("environment"))
            if binary is None:
                continue
            for k in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SERVICE_NAME", "LOG_FORMAT"):
                check(k in env, f"{name}: sets {k}")
            check(env.get("OTEL_EXPORTER_OTLP_ENDPOINT") == "http://jaeger:4318", f"{name}: exports spans to http://jaeger:4318")
            check(env.get("LOG_FORMAT") == "json", f"{name}: LOG_FORMAT=json")
            if sub == "serve":
                sto = int(env.get("SHUTDOWN_TIMEOUT_SECS", "25"))
                m = re.fullmatch(r"(\d+)s", str(svc.get("stop_grace_period", "10s")))
                grace = int(m.group(1)) if m else 0
                check(grace >= sto + 5, f"{name}: stop_grace_period {grace}s >= SHUTDOWN_TIMEOUT_SECS {sto} + 5")
            if sub in ("serve", None) and binary in DEFAULT_PORTS:
                port = port_of(env.get("BIND_ADDR", "")) or DEFAULT_PORTS[binary]
                check(env.get("BIND_ADDR", "").startswith("0.0.0.0:"), f"{name}: listens on all interfaces (BIND_ADDR={env.get('BIND_ADDR')})")
                published = [str(p).rsplit(":", 1)[-1] for p in svc.get("ports") or []]
                check(str(port) in published, f"{name}: port {port} is published")
                hc = " ".join(svc.get("healthcheck", {}).get("test", []))
                if hc:
                    check(f"/dev/tcp/127.0.0.1/{port}" in hc, f"{name}: healthcheck probes port {port}")
    check(len(images) == 1, f"every built service shares one image tag ({sorted(map(str, images))})")

    # Pairs that must agree.
    env = {n: env_dict(s.get("environment")) for n, s in services.items()}
    ing, fake, snd, run = env["webhook-ingest"], env["whatsapp-fake"], env["outbound-sender"], env["job-runner"]
    con = env["staff-console"]
    check(ing.get("WHATSAPP_APP_SECRET") and ing.get("WHATSAPP_APP_SECRET") == fake.get("FAKE_APP_SECRET"),
          "whatsapp-fake signs status webhooks with ingest's WHATSAPP_APP_SECRET")
    check(snd.get("WHATSAPP_ACCESS_TOKEN") and snd.get("WHATSAPP_ACCESS_TOKEN") == fake.get("FAKE_ACCESS_TOKEN"),
          "outbound-sender presents the token whatsapp-fake expects")
    fake_port = port_of(fake.get("BIND_ADDR", "")) or DEFAULT_PORTS["whatsapp-fake"]
    check(snd.get("WHATSAPP_API_BASE_URL") == f"http://whatsapp-fake:{fake_port}",
          f"outbound-sender's WHATSAPP_API_BASE_URL points at whatsapp-fake:{fake_port}")
    ing_port = port_of(ing.get("BIND_ADDR", "")) or DEFAULT_PORTS["webhook-ingest"]
    check(fake.get("FAKE_INGEST_URL") == f"http://webhook-ingest:{ing_port}/api/webhooks/whatsapp",
          "whatsapp-fake posts statuses to ingest's /api/webhooks/whatsapp")
    check(fake.get("BIND_ADDR", "").startswith("0.0.0.0:"), "whatsapp-fake listens on all interfaces (its default is 127.0.0.1)")
    check(ing.get("WEBHOOK_ALLOW_UNSIGNED", "false") == "false", "ingest verifies signatures (WEBHOOK_ALLOW_UNSIGNED unset or false)")
    # The console writes template replies that outbound-sender sends: both read one catalogue.
    def mount_source(service: str, target: str | None) -> str | None:
        for v in services[service].get("volumes") or []:
            parts = str(v).split(":")
            if len(parts) >= 2 and parts[1] == target:
                return parts[0]
        return None
    check(bool(con.get("WHATSAPP_TEMPLATES")) and con.get("WHATSAPP_TEMPLATES") == snd.get("WHATSAPP_TEMPLATES")
          and mount_source("staff-console", con.get("WHATSAPP_TEMPLATES")) is not None
          and mount_source("staff-console", con.get("WHATSAPP_TEMPLATES"))
          == mount_source("outbound-sender", snd.get("WHATSAPP_TEMPLATES")),
          "staff-console and outbound-sender read the same WHATSAPP_TEMPLATES file, mounted from the same source")
    check(con.get("TRUST_FORWARDED_FOR", "false") == "false",
          "staff-console trusts no X-Forwarded-For in compose (no proxy in front of it)")
    secrets = {
        "WHATSAPP_APP_SECRET": ing.get("WHATSAPP_APP_SECRET"),
        "WHATSAPP_VERIFY_TOKEN": ing.get("WHATSAPP_VERIFY_TOKEN"),
        "WHATSAPP_ACCESS_TOKEN": snd.get("WHATSAPP_ACCESS_TOKEN"),
        "JOB_RUNNER_TOKEN": run.get("JOB_RUNNER_TOKEN"),
        "CRON_SECRET": run.get("CRON_SECRET"),
        "POSTGRES_PASSWORD": env["postgres"].get("POSTGRES_PASSWORD"),
        "GF_SECURITY_ADMIN_PASSWORD": env["grafana"].get("GF_SECURITY_ADMIN_PASSWORD"),
        "DATABASE_URL": ing.get("DATABASE_URL"),
    }
    for k, v in secrets.items():
        check(bool(v) and "dev-only" in v, f"{k} is a value marked dev-only")
    pg_pw = env["postgres"].get("POSTGRES_PASSWORD", "")
    for n in ("migrate", "webhook-ingest", "job-runner", "outbound-sender", "staff-console"):
        url = env[n].get("DATABASE_URL", "")
        check(f":{pg_pw}@postgres:5432/" in url, f"{n}: DATABASE_URL points at the postgres service with its password")
    check(env["jaeger"].get("COLLECTOR_OTLP_ENABLED") == "true", "jaeger accepts OTLP")
    jports = " ".join(map(str, services["jaeger"].get("ports") or []))
    check("16686" in jports and "4318" in jports, "jaeger publishes the UI (16686) and OTLP/HTTP (4318)")
    check(services["postgres"].get("image", "").startswith("postgres:15"), "postgres:15")
    check("healthcheck" in services["postgres"], "postgres has a healthcheck")
    check(any("/var/lib/postgresql/data" in str(v) for v in services["postgres"].get("volumes", [])),
          "postgres keeps its data in a volume")
    # Prometheus: its config and rules are mounted; targets are compose services.
    prom_mounts = {str(v).split(":")[0]: str(v).split(":")[1] for v in services["prometheus"].get("volumes", [])}
    check(prom_mounts.get("./deploy/prometheus/prometheus.yml") == "/etc/prometheus/prometheus.yml",
          "prometheus mounts deploy/prometheus/prometheus.yml")
    check(prom_mounts.get("./deploy/prometheus/alerts.yml") == "/etc/prometheus/alerts.yml",
          "prometheus mounts deploy/prometheus/alerts.yml next to it")
    prom = yaml.safe_load((root / "deploy/prometheus/prometheus.yml").read_text())
    check("alerts.yml" in (prom.get("rule_files") or []), "prometheus.yml loads alerts.yml")
    scraped = set()
    for sc in prom.get("scrape_configs", []):
        for st in sc.get("static_configs", []):
            for t in st.get("targets", []):
                host, _, port = t.partition(":")
                if host == "localhost":
                    continue
                scraped.add(host)
                svc_env = env.get(host)
                if svc_env is None:
                    fail(f"prometheus target {t}: no such compose service")
                    continue
                binary = split_command(services[host].get("command"))[0]
                want = port_of(svc_env.get("BIND_ADDR", "")) or DEFAULT_PORTS.get(binary)
                check(str(want) == port, f"prometheus scrapes {host} on its port {want}")
                check(sc["job_name"] == host, f"scrape job of {host} is named {host} (alerts match on job)")
    for s in SCRAPED:
        check(s in scraped, f"prometheus scrapes {s}")
    # Grafana
    g = services["grafana"]
    genv = env["grafana"]
    check(genv.get("GF_AUTH_ANONYMOUS_ENABLED") == "true" and genv.get("GF_AUTH_ANONYMOUS_ORG_ROLE") == "Viewer",
          "grafana: anonymous viewer")
    check(any(str(p).endswith(":3000") for p in g.get("ports", [])), "grafana publishes 3000")
    gm = {str(v).split(":")[0]: str(v).split(":")[1] for v in g.get("volumes", [])}
    check(gm.get("./deploy/grafana/provisioning") == "/etc/grafana/provisioning", "grafana mounts deploy/grafana/provisioning")
    dash_mount = gm.get("./deploy/grafana/dashboards")
    provider = yaml.safe_load((root / "deploy/grafana/provisioning/dashboards/dashboards.yml").read_text())
    paths = [p.get("options", {}).get("path") for p in provider.get("providers", [])]
    check(dash_mount is not None and dash_mount in paths, f"the dashboard provider reads the mounted dashboards ({dash_mount})")
    home = genv.get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
    if home:
        check(dash_mount is not None and home.startswith(dash_mount + "/") and
              (root / "deploy/grafana/dashboards" / home[len(dash_mount) + 1:]).exists(),
              "grafana's home dashboard path exists")


# ---------------------------------------------------------------------------------------------
# Kubernetes (rendered base and overlay)

WORKLOAD_KINDS = {"Deployment", "Job", "CronJob"}
ALLOWED_KINDS = {
    ("v1", "Namespace"), ("v1", "ConfigMap"), ("v1", "Secret"), ("v1", "Service"),
    ("apps/v1", "Deployment"), ("batch/v1", "Job"), ("batch/v1", "CronJob"),
    ("networking.k8s.io/v1", "Ingress"), ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("policy/v1", "PodDisruptionBudget"),
}


def pod_spec(obj):
    kind = obj["kind"]
    if kind == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]
    return obj["spec"]["template"]


def container_env(c, configmaps: dict, secrets: dict) -> dict[str, str]:
    env: dict[str, str] = {}
    for ef in c.get("envFrom", []):
        if "configMapRef" in ef:
            env.update(configmaps.get(ef["configMapRef"]["name"], {}))
        if "secretRef" in ef:
            env.update({k: "<secret>" for k in secrets.get(ef["secretRef"]["name"], {})})
    for e in c.get("env", []):
        env[e["name"]] = e.get("value", "<ref>")
    return env


def labels_match(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def ingress_routes(path: str, paths: list[tuple[str, str]]) -> bool:
    """Whether an Ingress with `paths` ((path, pathType) pairs) sends a request for `path` on."""
    for p, kind in paths:
        if kind == "Exact" and path == p:
            return True
        if kind in ("Prefix", "ImplementationSpecific"):
            prefix = p.rstrip("/")
            if prefix == "" or path == prefix or path.startswith(prefix + "/"):
                return True
    return False


def console_routes(root: Path) -> list[str]:
    """The staff console's GET/POST paths, from its route table and its asset paths, with
    `{id}`-style segments replaced by a sample value."""
    src = root / "crates/staff-console/src"
    routes = re.findall(r'\.route\(\s*"(/[^"]*)"', (src / "startup.rs").read_text())
    routes += [p + "x" for p in re.findall(r'concat!\(\s*"(/assets/[^"]*)"', (src / "assets.rs").read_text())]
    return sorted({re.sub(r"\{[^}]+\}", "1", r) for r in routes})


# Deployments that take traffic from an Ingress: they get a preStop delay so that the load
# balancer stops routing to a pod before it stops listening.
BEHIND_INGRESS = {"webhook-ingest", "staff-console"}


def check_render(name: str, objs: list[dict], secret_name: str | None, base_secret_keys: set[str],
                 image_has_sleep: bool, root: Path | None = None) -> None:
    print(f"  -- {name}: {len(objs)} objects")
    by_kind: dict[str, dict[str, dict]] = {}
    for o in objs:
        key = (o.get("apiVersion"), o.get("kind"))
        if key not in ALLOWED_KINDS:
            fail(f"{name}: unexpected {key[1]} {key[0]} (not validated against a schema)")
        by_kind.setdefault(o["kind"], {})[o["metadata"]["name"]] = o
    ns = {o["metadata"].get("namespace") for o in objs if o["kind"] != "Namespace"}
    check(len(ns) == 1 and None not in ns, f"{name}: every namespaced object is in one namespace ({sorted(map(str, ns))})")
    configmaps = {n: o.get("data", {}) for n, o in by_kind.get("ConfigMap", {}).items()}
    secrets = {n: {**o.get("data", {}), **o.get("stringData", {})} for n, o in by_kind.get("Secret", {}).items()}
    for want in ("webhook-ingest", "job-runner", "outbound-sender", "staff-console"):
        check(want in by_kind.get("Deployment", {}), f"{name}: Deployment {want}")
    check("webhook-ingest" in by_kind.get("Service", {}), f"{name}: Service webhook-ingest")
    check("job-runner" in by_kind.get("Service", {}), f"{name}: Service job-runner (operator API)")
    check("staff-console" in by_kind.get("Service", {}), f"{name}: Service staff-console")
    check(sorted(by_kind.get("Ingress", {})) == ["staff-console", "webhook-ingest"],
          f"{name}: two Ingresses, webhook-ingest and staff-console ({sorted(by_kind.get('Ingress', {}))})")
    check(len(by_kind.get("HorizontalPodAutoscaler", {})) >= 1, f"{name}: a HorizontalPodAutoscaler")
    check(len(by_kind.get("PodDisruptionBudget", {})) >= 1, f"{name}: a PodDisruptionBudget")
    check(len(by_kind.get("Job", {})) == 1, f"{name}: one migration Job")
    check(len(by_kind.get("CronJob", {})) == 2, f"{name}: two CronJobs (run-once tick, prune)")

    images = set()
    commands: dict[str, tuple] = {}
    deploy_pods = {}
    for kind in WORKLOAD_KINDS:
        for oname, o in by_kind.get(kind, {}).items():
            where = f"{name} {kind}/{oname}"
            tpl = pod_spec(o)
            spec = tpl["spec"]
            psc = spec.get("securityContext", {})
            check(psc.get("runAsNonRoot") is True, f"{where}: runAsNonRoot")
            uid = psc.get("runAsUser")
            check(isinstance(uid, int) and uid > 0, f"{where}: runAsUser {uid}")
            check(psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", f"{where}: seccomp RuntimeDefault")
            check(spec.get("automountServiceAccountToken") is False, f"{where}: no service account token mounted")
            grace = spec.get("terminationGracePeriodSeconds", 30)
            for c in spec["containers"]:
                cw = f"{where}/{c['name']}"
                images.add(c.get("image"))
                csc = c.get("securityContext", {})
                check(csc.get("allowPrivilegeEscalation") is False, f"{cw}: allowPrivilegeEscalation false")
                check(csc.get("readOnlyRootFilesystem") is True, f"{cw}: readOnlyRootFilesystem")
                check("ALL" in (csc.get("capabilities", {}).get("drop") or []), f"{cw}: drops ALL capabilities")
                res = c.get("resources", {})
                check(all(k in res.get("requests", {}) for k in ("cpu", "memory")) and
                      all(k in res.get("limits", {}) for k in ("cpu", "memory")),
                      f"{cw}: cpu/memory requests and limits")
                cmd = (c.get("command") or []) + (c.get("args") or [])
                binary, sub, rest = check_command(cw, cmd)
                commands[oname] = (binary, sub, rest)
                for ef in c.get("envFrom", []):
                    ref = ef.get("configMapRef", {}).get("name")
                    if ref:
                        check(ref in configmaps, f"{cw}: ConfigMap {ref} exists")
                for e in c.get("env", []):
                    sk = e.get("valueFrom", {}).get("secretKeyRef")
                    if sk:
                        check(sk["name"] == secret_name and sk["key"] in base_secret_keys,
                              f"{cw}: secret key {sk['name']}/{sk['key']} is one the example Secret documents")
                env = container_env(c, configmaps, secrets)
                http = binary in DEFAULT_PORTS and sub == "serve"
                if http:
                    port = port_of(env.get("BIND_ADDR", "")) or DEFAULT_PORTS[binary]
                    cports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
                    check(port in cports.values(), f"{cw}: containerPort {port} matches BIND_ADDR")
                    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
                        pr = c.get(probe, {}).get("httpGet", {})
                        pport = cports.get(pr.get("port")) if isinstance(pr.get("port"), str) else pr.get("port")
                        check(pr.get("path") == path and pport == port, f"{cw}: {probe} GET {path} on {port}")
                    ann = tpl.get("metadata", {}).get("annotations", {})
                    check(ann.get("prometheus.io/scrape") == "true" and ann.get("prometheus.io/port") == str(port)
                          and ann.get("prometheus.io/path") == "/metrics", f"{cw}: prometheus scrape annotations for :{port}/metrics")
                    check("BIND_ADDR" in env and env["BIND_ADDR"].startswith("0.0.0.0:"), f"{cw}: BIND_ADDR set explicitly")
                    check("OTEL_SERVICE_NAME" in env, f"{cw}: OTEL_SERVICE_NAME set")
                    check(env.get("LOG_FORMAT") == "json", f"{cw}: LOG_FORMAT=json")
                    sto = env.get("SHUTDOWN_TIMEOUT_SECS")
                    check(sto is not None and sto.isdigit(), f"{cw}: SHUTDOWN_TIMEOUT_SECS set explicitly ({sto})")
                    pre = c.get("lifecycle", {}).get("preStop", {})
                    pre_secs = 0
                    if "exec" in pre:
                        pc = pre["exec"].get("command", [])
                        check(pc[:1] == ["sleep"] and image_has_sleep, f"{cw}: preStop `{' '.join(pc)}` (the image has sleep)")
                        pre_secs = int(pc[1]) if len(pc) > 1 and pc[1].isdigit() else 0
                    elif "sleep" in pre:
                        pre_secs = int(pre["sleep"].get("seconds", 0))
                    if binary in BEHIND_INGRESS:
                        check(pre_secs > 0, f"{cw}: preStop delay lets the load balancer stop routing first")
                    if binary == "staff-console":
                        check(env.get("TRUST_FORWARDED_FOR") == "true",
                              f"{cw}: TRUST_FORWARDED_FOR=true (login limits count the client, not the ingress)")
                    if sto and sto.isdigit():
                        need = int(sto) + pre_secs + 5
                        check(grace >= need, f"{cw}: terminationGracePeriodSeconds {grace} >= preStop {pre_secs} + "
                                             f"SHUTDOWN_TIMEOUT_SECS {sto} + 5")
                elif kind == "Deployment":
                    fail(f"{cw}: a Deployment that does not run an HTTP `serve`")
                if kind == "Deployment":
                    deploy_pods[oname] = (tpl["metadata"].get("labels", {}), c)
    check(len(images) == 1, f"{name}: one image for every workload ({sorted(map(str, images))})")

    # Migration Job
    for oname, o in by_kind.get("Job", {}).items():
        b, s, _ = commands.get(oname, (None, None, None))
        check(s == "migrate", f"{name}: Job/{oname} runs `{b} migrate`")
        check(o["spec"]["template"]["spec"].get("restartPolicy") in ("Never", "OnFailure"), f"{name}: Job/{oname} restartPolicy")
    # CronJobs
    ticks = [n for n in by_kind.get("CronJob", {}) if commands.get(n, (None, None))[1] == "run-once"]
    prunes = [n for n in by_kind.get("CronJob", {}) if commands.get(n, (None, None))[1] == "prune"]
    check(len(ticks) == 1, f"{name}: a CronJob runs `job-runner run-once`")
    check(len(prunes) == 1, f"{name}: a CronJob runs `job-runner prune`")
    for n in ticks:
        cj = by_kind["CronJob"][n]
        rest = commands[n][2]
        drain = int(rest[rest.index("--drain-for") + 1]) if "--drain-for" in rest else 0
        jspec = cj["spec"]["jobTemplate"]["spec"]
        ads = jspec.get("activeDeadlineSeconds")
        check(cj["spec"]["schedule"] == "* * * * *", f"{name}: CronJob/{n} ticks every minute")
        check(drain == 50, f"{name}: CronJob/{n} drains for 50 s")
        check(cj["spec"].get("concurrencyPolicy") == "Forbid", f"{name}: CronJob/{n} concurrencyPolicy Forbid")
        check(isinstance(cj["spec"].get("startingDeadlineSeconds"), int) and cj["spec"]["startingDeadlineSeconds"] < 60,
              f"{name}: CronJob/{n} startingDeadlineSeconds below the period")
        check(isinstance(ads, int) and drain < ads <= drain + 60,
              f"{name}: CronJob/{n} activeDeadlineSeconds {ads} a bit above the drain ({drain})")
    for n in prunes:
        cj = by_kind["CronJob"][n]
        sched = cj["spec"]["schedule"].split()
        check(len(sched) == 5 and sched[0].isdigit() and sched[1:] == ["*", "*", "*", "*"],
              f"{name}: CronJob/{n} runs hourly ({cj['spec']['schedule']})")
        check(cj["spec"].get("concurrencyPolicy") == "Forbid", f"{name}: CronJob/{n} concurrencyPolicy Forbid")
        env = container_env(pod_spec(cj)["spec"]["containers"][0], configmaps, secrets)
        for k, d in (("PRUNE_JOBS_AFTER_DAYS", "7"), ("PRUNE_STATUS_EVENTS_AFTER_DAYS", "30")):
            check(env.get(k) == d, f"{name}: CronJob/{n} {k}={env.get(k)} (default {d})")
        for dname, (labels, c) in deploy_pods.items():
            if commands.get(dname, (None, None))[:2] == ("job-runner", "serve"):
                denv = container_env(c, configmaps, secrets)
                check(denv.get("PRUNE_INTERVAL_SECS") == "0",
                      f"{name}: Deployment/{dname} leaves pruning to CronJob/{n} (PRUNE_INTERVAL_SECS=0)")

    # References between objects.
    for sname, svc in by_kind.get("Service", {}).items():
        sel = svc["spec"].get("selector", {})
        targets = [d for d, (labels, _) in deploy_pods.items() if labels_match(sel, labels)]
        check(len(targets) == 1, f"{name}: Service/{sname} selects Deployment {targets}")
        for p in svc["spec"]["ports"]:
            tp = p.get("targetPort")
            if targets:
                c = deploy_pods[targets[0]][1]
                names = {cp.get("name") for cp in c.get("ports", [])} | {cp["containerPort"] for cp in c.get("ports", [])}
                check(tp in names, f"{name}: Service/{sname} targetPort {tp} exists on the pod")
    hosts_of: dict[str, set[str]] = {}
    for iname, ing in by_kind.get("Ingress", {}).items():
        paths = []
        for rule in ing["spec"].get("rules", []):
            check(bool(rule.get("host")), f"{name}: Ingress/{iname} has a host ({rule.get('host')})")
            hosts_of.setdefault(iname, set()).add(rule.get("host"))
            for p in rule.get("http", {}).get("paths", []):
                paths.append((p["path"], p.get("pathType")))
                be = p["backend"]["service"]
                svc = by_kind.get("Service", {}).get(be["name"])
                check(svc is not None, f"{name}: Ingress/{iname} backend Service {be['name']} exists")
                if svc is not None:
                    pnames = {sp.get("name") for sp in svc["spec"]["ports"]} | {sp["port"] for sp in svc["spec"]["ports"]}
                    check(be["port"].get("name", be["port"].get("number")) in pnames,
                          f"{name}: Ingress/{iname} backend port exists on Service {be['name']}")
        for internal in INTERNAL_PATHS:
            check(not ingress_routes(internal, paths), f"{name}: Ingress/{iname} keeps {internal} inside the cluster")
        if iname == "webhook-ingest":
            check([p for p, _ in paths] == ["/api/webhooks/whatsapp"],
                  f"{name}: Ingress/{iname} exposes only /api/webhooks/whatsapp ({paths})")
        elif iname == "staff-console":
            backends = {p["backend"]["service"]["name"] for r in ing["spec"].get("rules", [])
                        for p in r.get("http", {}).get("paths", [])}
            check(backends == {"staff-console"}, f"{name}: Ingress/{iname} routes to Service staff-console only ({sorted(backends)})")
            if root is not None:
                routes = console_routes(root)
                check(len(routes) > 5, f"{name}: found the console's routes in crates/staff-console/src ({len(routes)})")
                missing = [r for r in routes if not ingress_routes(r, paths)]
                check(not missing, f"{name}: Ingress/{iname} routes every console page (not routed: {missing})")
                check(ingress_routes("/events", paths), f"{name}: Ingress/{iname} routes /events")
    if "webhook-ingest" in hosts_of and "staff-console" in hosts_of:
        check(not hosts_of["webhook-ingest"] & hosts_of["staff-console"],
              f"{name}: the staff console has a host of its own ({sorted(hosts_of['staff-console'])})")
    for hname, hpa in by_kind.get("HorizontalPodAutoscaler", {}).items():
        ref = hpa["spec"]["scaleTargetRef"]
        d = by_kind.get("Deployment", {}).get(ref["name"])
        check(ref["kind"] == "Deployment" and d is not None, f"{name}: HPA/{hname} targets Deployment {ref['name']}")
        if d is not None:
            check("replicas" not in d["spec"], f"{name}: Deployment/{ref['name']} leaves replicas to its HPA")
        check(hpa["spec"].get("minReplicas", 1) >= 2, f"{name}: HPA/{hname} keeps at least 2 replicas")
    for pname, pdb in by_kind.get("PodDisruptionBudget", {}).items():
        sel = pdb["spec"]["selector"].get("matchLabels", {})
        targets = [d for d, (labels, _) in deploy_pods.items() if labels_match(sel, labels)]
        check(len(targets) == 1, f"{name}: PDB/{pname} selects Deployment {targets}")
    check("webhook-ingest" in {p["spec"]["selector"]["matchLabels"].get("app.kubernetes.io/name")
                               for p in by_kind.get("PodDisruptionBudget", {}).values()},
          f"{name}: webhook-ingest has a PodDisruptionBudget")
    for dname, d in by_kind.get("Deployment", {}).items():
        sel = d["spec"]["selector"]["matchLabels"]
        check(labels_match(sel, d["spec"]["template"]["metadata"].get("labels", {})),
              f"{name}: Deployment/{dname} selector matches its pod labels")
    # The ConfigMap's SHUTDOWN_TIMEOUT_SECS is the one every service reads.
    sts = {v.get("SHUTDOWN_TIMEOUT_SECS") for v in configmaps.values()}
    check(len(sts) == 1 and None not in sts, f"{name}: one SHUTDOWN_TIMEOUT_SECS for every service ({sts})")


def load_all(path: str) -> list[dict]:
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def cmd_k8s(root: Path, base_render: str, overlay_render: str) -> None:
    describe("expected objects; one namespace and image; every pod non-root, seccomp RuntimeDefault, read-only "
             "root, no privilege escalation, ALL capabilities dropped, requests and limits; serve pods: ports vs "
             "BIND_ADDR, /healthz and /readyz probes, scrape annotations, grace >= preStop + SHUTDOWN_TIMEOUT_SECS "
             "+ 5, preStop behind an Ingress; migrate Job; run-once and prune CronJobs (schedule, Forbid, "
             "deadlines, drain); ConfigMap and Secret keys, Service/Ingress/HPA/PDB references; no Ingress routes "
             "/metrics, /healthz, /readyz; the console's Ingress routes every console page on a host of its own, "
             "TRUST_FORWARDED_FOR behind it; overlay image, hosts, TLS, SSE annotations, no Secret")
    base = load_all(base_render)
    overlay = load_all(overlay_render)
    image_has_sleep = (root / "target/deploy-tools/.image-has-sleep").read_text().strip() == "yes" \
        if (root / "target/deploy-tools/.image-has-sleep").exists() else True
    secrets = [o for o in base if o["kind"] == "Secret"]
    check(len(secrets) == 1, "base has one example Secret")
    keys: set[str] = set()
    secret_name = secrets[0]["metadata"]["name"] if secrets else None
    if secrets:
        data = {**secrets[0].get("data", {}), **secrets[0].get("stringData", {})}
        keys = set(data)
        for k in ("DATABASE_URL", "WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN", "WHATSAPP_ACCESS_TOKEN",
                  "JOB_RUNNER_TOKEN", "CRON_SECRET"):
            check(k in data, f"example Secret documents {k}")
        check(all("PLACEHOLDER" in str(v) for v in data.values()), "every example Secret value is a PLACEHOLDER")
    check(not any(o["kind"] == "Secret" for o in overlay),
          "production overlay renders no Secret (kubectl apply -k never overwrites the real one)")
    check_render("base", base, secret_name, keys, image_has_sleep, root)
    check_render("production overlay", overlay, secret_name, keys, image_has_sleep, root)
    # Overlay specifics.
    b_img = {c["image"] for o in base if o["kind"] == "Deployment" for c in o["spec"]["template"]["spec"]["containers"]}
    o_img = {c["image"] for o in overlay if o["kind"] == "Deployment" for c in o["spec"]["template"]["spec"]["containers"]}
    check(b_img != o_img and all(":" in i for i in o_img), f"overlay sets the image and tag ({sorted(o_img)})")
    o_hosts = {r["host"] for o in overlay if o["kind"] == "Ingress" for r in o["spec"]["rules"]}
    b_hosts = {r["host"] for o in base if o["kind"] == "Ingress" for r in o["spec"]["rules"]}
    check(o_hosts != b_hosts, f"overlay sets the ingress host ({sorted(o_hosts)})")
    for o_ing in (o for o in overlay if o["kind"] == "Ingress"):
        iname = o_ing["metadata"]["name"]
        hosts = {r["host"] for r in o_ing["spec"]["rules"]}
        tls_hosts = {h for t in o_ing["spec"].get("tls", []) for h in t.get("hosts", [])}
        check(hosts <= tls_hosts, f"overlay terminates TLS for Ingress/{iname}'s host ({sorted(hosts)})")
        check(o_ing["spec"].get("ingressClassName") == "nginx", f"overlay: Ingress/{iname} has ingressClassName nginx")
        if iname == "staff-console":
            ann = o_ing["metadata"].get("annotations", {})
            check(ann.get("nginx.ingress.kubernetes.io/proxy-buffering") == "off",
                  "overlay: Ingress/staff-console passes server-sent events on unbuffered (proxy-buffering off)")
            timeout = ann.get("nginx.ingress.kubernetes.io/proxy-read-timeout", "60")
            check(timeout.isdigit() and int(timeout) >= 600,
                  f"overlay: Ingress/staff-console lets /events stay open for minutes (proxy-read-timeout {timeout})")


# ---------------------------------------------------------------------------------------------
# Metrics used by the dashboard and the alerts

HISTOGRAMS = {
    "http_server_request_duration_seconds": {"method", "route", "status"},
    "job_pickup_latency_seconds": set(),
    "outbound_send_duration_seconds": set(),
    "outbound_queue_wait_seconds": set(),
    "turn_reply_delay_seconds": set(),
    "presence_wait_seconds": set(),
}
# Histograms without buckets, exported as summaries.
SUMMARIES = {
    "turn_messages": set(),
    "store_commit_group_size": {"writer"},
}
COUNTERS = {
    "webhook_messages_total": {"outcome"},
    "webhook_statuses_total": {"outcome"},
    "webhook_rejected_total": {"reason"},
    "jobs_claimed_total": set(),
    "jobs_done_total": set(),
    "jobs_retried_total": set(),
    "jobs_failed_total": set(),
    "jobs_lease_lost_total": set(),
    "outbound_claimed_total": set(),
    "outbound_sent_total": set(),
    "outbound_retried_total": set(),
    "outbound_failed_total": set(),
    "outbound_uncertain_total": set(),
    "outbound_duplicates_blocked_total": set(),
    "outbound_service_lists_blocked_total": set(),
    "provider_errors_total": {"code", "disposition"},
    "outbound_superseded_total": set(),
    "presence_requests_total": {"outcome"},
    "outbound_refused_opted_out_total": set(),
    "webhook_quarantined_total": {"cause"},
    "console_logins_total": {"outcome"},
    "console_replies_total": {"outcome"},
}
GAUGES = {
    "queue_depth": {"queue", "status"},
    "queue_oldest_age_seconds": {"queue"},
}
# Prometheus' own series about each scrape.
SYNTHETIC = {"up": set()}
LABEL_VALUES = {
    ("webhook_messages_total", "outcome"): {"stored", "duplicate", "skipped"},
    ("webhook_statuses_total", "outcome"): {"recorded", "duplicate"},
    ("webhook_rejected_total", "reason"): {"signature", "too_large", "body_timeout", "malformed", "body_read", "internal"},
    ("provider_errors_total", "disposition"): {"transient", "throttled", "permanent", "auth", "uncertain"},
    ("presence_requests_total", "outcome"): {"sent", "failed", "skipped"},
    ("queue_depth", "queue"): {"outbound_job", "outbound_message_log"},
    ("queue_depth", "status"): {"queued", "running", "sending", "uncertain"},
    ("queue_oldest_age_seconds", "queue"): {"outbound_job", "outbound_message_log"},
    ("up", "job"): set(SCRAPED),
}
TARGET_LABELS = {"job", "instance", "namespace", "pod"}
KNOWN: dict[str, set[str]] = {}
for h, labels in HISTOGRAMS.items():
    KNOWN[h + "_bucket"] = labels | {"le"}
    KNOWN[h + "_sum"] = set(labels)
    KNOWN[h + "_count"] = set(labels)
for m, labels in SUMMARIES.items():
    KNOWN[m] = labels | {"quantile"}
    KNOWN[m + "_sum"] = set(labels)
    KNOWN[m + "_count"] = set(labels)
for d in (COUNTERS, GAUGES, SYNTHETIC):
    KNOWN.update({k: set(v) for k, v in d.items()})

KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool",
            "offset", "inf", "nan", "atan2"}
SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^}]*)\}")
MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")


def analyse_expr(where: str, expr: str) -> set[str]:
    """Checks metric names, label names and label values of one PromQL expression."""
    used: set[str] = set()
    e = expr.replace("$__rate_interval", "5m").replace("$__range", "1h").replace("$__interval", "1m")
    for m in SELECTOR.finditer(e):
        metric = m.group(1)
        if metric and metric not in KEYWORDS:
            used.add(metric)
        for lname, op, value in MATCHER.findall(m.group(2)):
            if metric == "" or metric is None:
                continue
            allowed = KNOWN.get(metric, set()) | TARGET_LABELS
            if lname not in allowed:
                fail(f"{where}: {metric} has no label {lname!r}")
            values = LABEL_VALUES.get((metric.removesuffix("_bucket").removesuffix("_sum").removesuffix("_count"), lname)) \
                or LABEL_VALUES.get((metric, lname))
            if values and op in ("=", "!="):
                if value not in values:
                    fail(f"{where}: {metric}{{{lname}{op}\"{value}\"}}: {value!r} is not one of {sorted(values)}")
            elif values and op in ("=~", "!~") and re.fullmatch(r"[A-Za-z0-9_\-|]+", value):
                for alt in value.split("|"):
                    if alt not in values:
                        fail(f"{where}: {metric}{{{lname}{op}\"{value}\"}}: {alt!r} is not one of {sorted(values)}")
    stripped = re.sub(r'"(?:[^"\\]|\\.)*"', '""', e)
    stripped = re.sub(r"\{[^}]*\}", " ", stripped)
    stripped = re.sub(r"\[[^\]]*\]", " ", stripped)
    groupings = GROUPING.findall(stripped)
    stripped = GROUPING.sub(" ", stripped)
    for tok in re.finditer(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?", stripped):
        name, call = tok.group(1), tok.group(2)
        if call or name in KEYWORDS:
            continue
        used.add(name)
    for metric in used:
        if metric not in KNOWN:
            base = next((h for h in HISTOGRAMS if metric == h), None)
            hint = " (a histogram: use _bucket, _sum or _count)" if base else ""
            fail(f"{where}: unknown metric {metric!r}{hint}")
    label_pool = set().union(*(KNOWN.get(m, set()) for m in used)) | TARGET_LABELS
    for _, labels in groupings:
        for lname in [l.strip() for l in labels.split(",") if l.strip()]:
            if lname not in label_pool:
                fail(f"{where}: groups by {lname!r}, which none of {sorted(used)} has")
    if "histogram_quantile" in e:
        if not any(m.endswith("_bucket") for m in used):
            fail(f"{where}: histogram_quantile over no _bucket series")
        if not any("le" in [l.strip() for l in labels.split(",")] for kw, labels in groupings if kw == "by"):
            fail(f"{where}: histogram_quantile without `by (le)`")
    gauge_used = used & set(GAUGES)
    if gauge_used and re.search(r"\bsum\b", e) and not re.search(r"\bmax\b", e):
        fail(f"{where}: sums {sorted(gauge_used)}, which every replica reports identically (use max)")
    return used


def cmd_metrics(root: Path, rules_out: str) -> None:
    describe("dashboard JSON and provisioning; every metric, label and label value in the dashboard's queries "
             "and the alerts is one the services export (histograms only as _bucket/_sum/_count, quantiles "
             "by le, queue gauges with max); the required panels and alerts exist")
    dash_path = root / "deploy/grafana/dashboards/pipeline.json"
    try:
        dash = json.loads(dash_path.read_text())
        ok("pipeline.json parses as JSON")
    except json.JSONDecodeError as e:
        fail(f"pipeline.json: {e}")
        return
    for k in ("uid", "title", "panels", "schemaVersion", "time"):
        check(k in dash, f"dashboard has {k}")
    ds_var = [v for v in dash.get("templating", {}).get("list", []) if v.get("type") == "datasource"]
    prov = yaml.safe_load((root / "deploy/grafana/provisioning/datasources/datasources.yml").read_text())
    prom_ds = [d for d in prov.get("datasources", []) if d.get("type") == "prometheus"]
    check(len(prom_ds) == 1 and prom_ds[0].get("url") == "http://prometheus:9090",
          "datasource provisioning: one Prometheus at http://prometheus:9090")
    prom_uid = prom_ds[0].get("uid") if prom_ds else None
    ds_default = ds_var[0].get("current", {}).get("value") if ds_var else None
    check(ds_default == prom_uid, f"dashboard's datasource variable defaults to the provisioned one ({ds_default})")
    ids = set()
    exprs: list[tuple[str, str]] = []
    panels = list(dash.get("panels", []))
    for p in list(panels):
        panels.extend(p.get("panels", []))
    for p in panels:
        pid = p.get("id")
        if pid in ids:
            fail(f"panel id {pid} is not unique")
        ids.add(pid)
        gp = p.get("gridPos", {})
        if not all(k in gp for k in ("h", "w", "x", "y")) or gp.get("x", 0) + gp.get("w", 0) > 24:
            fail(f"panel {p.get('title')!r}: bad gridPos {gp}")
        if p.get("type") == "row":
            continue
        ds = p.get("datasource", {})
        if ds.get("uid") not in ("${datasource}", prom_uid):
            fail(f"panel {p.get('title')!r}: datasource {ds} is neither the variable nor the provisioned uid")
        targets = p.get("targets", [])
        if not targets:
            fail(f"panel {p.get('title')!r} has no queries")
        refs = [t.get("refId") for t in targets]
        if len(set(refs)) != len(refs):
            fail(f"panel {p.get('title')!r}: duplicate refIds {refs}")
        for t in targets:
            exprs.append((f"dashboard panel {p.get('title')!r} {t.get('refId')}", t.get("expr", "")))
    ok(f"dashboard: {len([p for p in panels if p.get('type') != 'row'])} panels, {len(exprs)} queries, unique ids")

    used: set[str] = set()
    n_fail = len(FAILURES)
    for where, expr in exprs:
        used |= analyse_expr(where, expr)
    alerts = yaml.safe_load((root / "deploy/prometheus/alerts.yml").read_text())
    alert_names = []
    for g in alerts.get("groups", []):
        for r in g.get("rules", []):
            alert_names.append(r.get("alert"))
            used |= analyse_expr(f"alert {r.get('alert')}", r["expr"])
            check(r.get("labels", {}).get("severity") in ("critical", "warning", "info"),
                  f"alert {r.get('alert')}: severity {r.get('labels', {}).get('severity')}")
            check(bool(r.get("annotations", {}).get("summary")), f"alert {r.get('alert')}: has a summary")
    if len(FAILURES) == n_fail:
        ok(f"every metric, label and label value in {len(exprs)} dashboard queries and {len(alert_names)} alerts is exported")
    required_dash = {
        "http_server_request_duration_seconds_bucket", "webhook_messages_total", "queue_depth",
        "queue_oldest_age_seconds", "jobs_done_total", "jobs_retried_total", "jobs_failed_total",
        "outbound_send_duration_seconds_bucket", "provider_errors_total", "outbound_uncertain_total",
        "outbound_service_lists_blocked_total",
    }
    dash_used = set()
    for _, expr in exprs:
        dash_used |= {m for m in KNOWN if re.search(rf"\b{m}\b", expr)}
    for m in sorted(required_dash):
        check(m in dash_used, f"dashboard shows {m}")
    alert_exprs = " ".join(r["expr"] for g in alerts["groups"] for r in g["rules"])
    for what, pattern in (("a stuck queue", r"queue_oldest_age_seconds"), ("failed jobs", r"jobs_failed_total"),
                          ("uncertain sends", r"outbound_uncertain_total"), ("Graph API auth errors", r'disposition="auth"'),
                          ("a service down", r"\bup\b")):
        check(re.search(pattern, alert_exprs) is not None, f"an alert covers {what}")
    # Every scraped service is named where services are listed by name.
    up_selectors = re.findall(r'up\{job=~"([^"]+)"\}', alert_exprs)
    absent = set(re.findall(r'absent\(up\{job="([^"]+)"\}\)', alert_exprs))
    dash_up = [set(m.split("|")) for _, e in exprs for m in re.findall(r'\bup\{job=~"([^"]+)"\}', e)]
    for svc in SCRAPED:
        check(any(svc in sel.split("|") for sel in up_selectors), f"an alert fires when {svc} is down")
        check(svc in absent, f"an alert fires when {svc} has no scrape target")
        check(bool(dash_up) and all(svc in d for d in dash_up), f"the dashboard's targets panel shows {svc}")

    # What the code exports (informational: some metrics are added by work in progress).
    code = ""
    for p in (root / "crates").glob("*/src/**/*.rs"):
        code += p.read_text(errors="replace")
    exported = set(re.findall(r'(?:counter|gauge|histogram)!\(\s*"([a-z_:][a-z0-9_:]*)"', code))
    exported |= set(re.findall(r'Counter\s*\{\s*name:\s*"([a-z_:][a-z0-9_:]*)"', code))
    if exported:
        declared = set(HISTOGRAMS) | set(SUMMARIES) | set(COUNTERS) | set(GAUGES)
        missing = sorted(declared - exported)
        if missing:
            note(f"not (yet) exported by the code in crates/: {', '.join(missing)}")
        extra = sorted(exported - declared)
        if extra:
            note(f"exported by the code but unknown to this check: {', '.join(extra)}")
        if "provider_errors_total" in exported and not re.search(r'"provider_errors_total"[^;]*"disposition"', code):
            note("provider_errors_total has no `disposition` label in crates/ yet; GraphApiAuthErrors also matches auth codes")

    # The dashboard's queries as a rules file, so promtool parses every one of them.
    rules = {"groups": [{"name": "dashboard-queries", "rules": [
        {"record": f"dashboard:query:{i}", "expr": expr.replace("$__rate_interval", "5m").replace("$__range", "1h")}
        for i, (_, expr) in enumerate(exprs)]}]}
    Path(rules_out).write_text(yaml.safe_dump(rules, sort_keys=False))


def cmd_prom_k8s(root: Path, out: str) -> None:
    describe("kubernetes_sd role pod; job label from app.kubernetes.io/name")
    cfg = yaml.safe_load((root / "deploy/prometheus/prometheus-kubernetes.yml").read_text())
    for sc in cfg.get("scrape_configs", []):
        for sd in sc.pop("kubernetes_sd_configs", []) or []:
            check(sd.get("role") == "pod", f"{sc['job_name']}: kubernetes_sd role pod")
            sc.setdefault("static_configs", []).append({"targets": ["stub:1"]})
        relabel = sc.get("relabel_configs", [])
        job = [r for r in relabel if r.get("target_label") == "job"]
        check(job and job[0]["source_labels"] == ["__meta_kubernetes_pod_label_app_kubernetes_io_name"],
              f"{sc['job_name']}: job label comes from app.kubernetes.io/name (alerts match on job)")
    cfg["rule_files"] = [str(root / "deploy/prometheus" / f) for f in cfg.get("rule_files", [])]
    Path(out).write_text(yaml.safe_dump(cfg, sort_keys=False))


# ---------------------------------------------------------------------------------------------
# Optional: environment variables in the manifests vs the built binaries' --help


def help_env(binary_path: Path, sub: str | None) -> set[str] | None:
    args = [str(binary_path)] + ([sub] if sub else []) + ["--help"]
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    return set(re.findall(r"\[env: ([A-Z0-9_]+)", out.stdout))


def cmd_help_flags(root: Path, base_render: str) -> None:
    bindir = next((d for d in (root / "target/release", root / "target/debug")
                   if all((d / b).exists() for b in ("webhook-ingest", "job-runner", "outbound-sender", "whatsapp-fake"))), None)
    if bindir is None:
        note("no built binaries under target/: skipped comparing manifests with --help")
        return
    note(f"comparing environment variables with `--help` of {bindir.relative_to(root)} (warnings only: the build may be stale)")
    cache: dict[tuple, set[str] | None] = {}

    def accepted(binary, sub):
        key = (binary, sub)
        if key not in cache:
            cache[key] = help_env(bindir / binary, sub)
        return cache[key]

    def compare(where, binary, sub, names, shared=False):
        acc = accepted(binary, sub)
        if acc is None:
            note(f"WARN {where}: `{binary} {sub or ''}` is not in this build; skipped")
            return set()
        unknown = sorted(n for n in names if n not in acc and n not in NON_CLAP_ENV)
        if unknown and not shared:
            note(f"WARN {where}: `{binary} {sub or ''} --help` lists no {', '.join(unknown)}")
        return {n for n in names if n in acc or n in NON_CLAP_ENV}

    compose = yaml.safe_load((root / "docker-compose.yml").read_text())
    for name, svc in compose["services"].items():
        if "build" not in svc:
            continue
        binary, sub, _ = split_command(svc["command"])
        compare(f"compose {name}", binary, sub, set(env_dict(svc.get("environment"))))
    objs = load_all(base_render)
    cm_keys = set()
    for o in objs:
        if o["kind"] == "ConfigMap":
            cm_keys |= set(o.get("data", {}))
    consumed = set()
    for o in objs:
        if o["kind"] not in WORKLOAD_KINDS:
            continue
        for c in pod_spec(o)["spec"]["containers"]:
            binary, sub, _ = split_command((c.get("command") or []) + (c.get("args") or []))
            compare(f"k8s {o['kind']}/{o['metadata']['name']}", binary, sub, {e["name"] for e in c.get("env", [])})
            if any("configMapRef" in ef for ef in c.get("envFrom", [])):
                consumed |= compare("", binary, sub, cm_keys, shared=True)
    unused = sorted(cm_keys - consumed)
    if unused:
        note(f"WARN ConfigMap keys no built binary reads: {', '.join(unused)}")
    else:
        ok("every ConfigMap key is read by at least one built binary")


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    sub, root = sys.argv[1], Path(sys.argv[2]).resolve()
    args = sys.argv[3:]
    {
        "dockerfile": lambda: cmd_dockerfile(root),
        "compose": lambda: cmd_compose(root),
        "k8s": lambda: cmd_k8s(root, *args),
        "metrics": lambda: cmd_metrics(root, *args),
        "prom-k8s": lambda: cmd_prom_k8s(root, *args),
        "help-flags": lambda: cmd_help_flags(root, *args),
    }[sub]()
    if PASSED and not VERBOSE:
        print(f"  ok    {len(PASSED)} checks passed (deploy/validate -v lists them)")
    if FAILURES:
        print(f"  {len(FAILURES)} check(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    sys.exit(main())
