"""deploy/: YAML structure, the generated PrometheusRule, compose, Dockerfile, systemd units,
and the example configs loaded by the exporter's and receiver's own config loaders."""

from __future__ import annotations

import configparser
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from exporter.config import load_config as load_exporter_config
from exporter.discovery import available
from receiver.commands.config_file import load_config as load_receiver_config

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "kubernetes"


def load_module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def test_prometheusrule_matches_rules_dir() -> None:
    gen = load_module(K8S / "generate_prometheusrule.py")
    assert gen.main(["--check"]) == 0, "run python deploy/kubernetes/generate_prometheusrule.py"
    rule = docs(K8S / "prometheusrule.yaml")[0]
    assert rule["kind"] == "PrometheusRule"
    expected = []
    for path in sorted((REPO / "rules").glob("*.rules.yml")):
        expected += yaml.safe_load(path.read_text())["groups"]
    assert rule["spec"]["groups"] == expected


def test_prometheusrule_check_detects_a_stale_file(tmp_path: Path) -> None:
    gen = load_module(K8S / "generate_prometheusrule.py")
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "x.rules.yml").write_text(
        "groups:\n  - name: x\n    rules:\n      - record: a:b:c\n        expr: vector(1)\n"
    )
    assert gen.render(rules) != gen.render()
    assert "a:b:c" in gen.render(rules)


def test_kubernetes_manifests() -> None:
    objects = {
        (d["kind"], d["metadata"]["name"]): d
        for f in K8S.glob("*.yaml")
        for d in docs(f)
        if "metadata" in d
    }
    ds = objects[("DaemonSet", "tocsin-exporter")]
    pod = ds["spec"]["template"]["spec"]
    assert pod["hostNetwork"] and pod["hostPID"]
    host_paths = {v["hostPath"]["path"] for v in pod["volumes"] if "hostPath" in v}
    assert {"/proc", "/sys", "/"} <= host_paths
    mounts = {m["mountPath"]: m for m in pod["containers"][0]["volumeMounts"]}
    for path in ("/host/proc", "/host/sys", "/host/root"):
        assert mounts[path]["readOnly"] is True
    args = pod["containers"][0]["args"]
    assert "--path.procfs=/host/proc" in args and "--path.rootfs=/host/root" in args
    sts = objects[("StatefulSet", "tocsin-receiver")]
    assert sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    container = sts["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "data", "mountPath": "/var/lib/tocsin"} in container["volumeMounts"]
    for kind_name in (("Service", "tocsin-exporter"), ("Service", "tocsin-receiver")):
        assert kind_name in objects
    for name in ("tocsin-exporter", "tocsin-receiver"):
        sm = objects[("ServiceMonitor", name)]
        selected = sm["spec"]["selector"]["matchLabels"]
        services = [
            d
            for (kind, _), d in objects.items()
            if kind == "Service"
            and all(d["metadata"]["labels"].get(k) == v for k, v in selected.items())
        ]
        assert len(services) == 1, f"{name}: ServiceMonitor must select exactly one Service"
        # The pipeline rules use job="tocsin-exporter"/"tocsin-receiver": the Service name.
        assert services[0]["metadata"]["name"] == name
    for (kind, _), d in objects.items():
        if kind in ("DaemonSet", "StatefulSet"):
            spec = d["spec"]["template"]["spec"]
            assert spec["securityContext"]["runAsNonRoot"] is True
            for c in spec["containers"]:
                assert c["securityContext"]["allowPrivilegeEscalation"] is False
                assert c["securityContext"]["readOnlyRootFilesystem"] is True
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == sorted(
        p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml"
    )


def test_kubernetes_configmaps_are_valid_configs(tmp_path: Path) -> None:
    objects = {
        (d["kind"], d["metadata"]["name"]): d
        for f in K8S.glob("*.yaml")
        for d in docs(f)
        if "metadata" in d
    }
    exporter_yml = tmp_path / "exporter.yml"
    exporter_yml.write_text(objects[("ConfigMap", "tocsin-exporter")]["data"]["exporter.yml"])
    load_exporter_config(exporter_yml, available())
    token = tmp_path / "token"
    token.write_text("t0ken\n")
    text = objects[("ConfigMap", "tocsin-receiver")]["data"]["receiver.yml"]
    receiver_yml = tmp_path / "receiver.yml"
    receiver_yml.write_text(text.replace("/etc/tocsin/secrets/ingest-token", str(token)))
    assert load_receiver_config(receiver_yml).auth.tokens[0].roles == ["ingest"]


def test_example_configs_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = load_exporter_config(DEPLOY / "examples" / "exporter.yml", available())
    for name in ("accesslog", "authlog", "probes", "processes", "certificates", "fileintegrity"):
        assert cfg.collectors[name].enabled is True, name
    token = tmp_path / "token"
    token.write_text("t0ken\n")
    monkeypatch.setenv("TOCSIN_INGEST_TOKEN_FILE", str(token))
    rcfg = load_receiver_config(DEPLOY / "examples" / "receiver.yml")
    assert "ops-webhook" in rcfg.channels
    assert any("ingest" in t.roles for t in rcfg.auth.tokens)


def test_prometheus_and_alertmanager_configs_wire_the_pipeline() -> None:
    prom = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    jobs = {j["job_name"] for j in prom["scrape_configs"]}
    assert {"tocsin-exporter", "tocsin-receiver", "alertmanager", "prometheus"} <= jobs
    assert prom["rule_files"] == ["../../rules/*.rules.yml"]
    assert prom["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    am = yaml.safe_load((DEPLOY / "alertmanager" / "alertmanager.yml").read_text())
    (receiver,) = am["receivers"]
    assert am["route"]["receiver"] == receiver["name"]
    hook = receiver["webhook_configs"][0]
    assert hook["url"].endswith("/webhook/alertmanager")
    assert hook["send_resolved"] is True
    auth = hook["http_config"]["authorization"]
    assert auth["type"] == "Bearer" and auth["credentials_file"]
    assert "credentials" not in auth, "never a literal token in the config"


def test_docker_compose() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"exporter", "receiver", "prometheus", "alertmanager", "grafana"}
    exporter_mounts = {v.split(":")[0]: v for v in services["exporter"]["volumes"]}
    for host_path in ("/proc", "/sys", "/"):
        assert exporter_mounts[host_path].split(":")[2].startswith("ro"), host_path
    assert any(v.startswith("receiver-data:") for v in services["receiver"]["volumes"])
    prom_mounts = services["prometheus"]["volumes"]
    # prometheus.yml's relative rule path (../../rules) must land on the mounted rules.
    assert "./prometheus/prometheus.yml:/etc/prometheus/deploy/prometheus/prometheus.yml:ro" in (
        prom_mounts
    )
    assert "../rules:/etc/prometheus/rules:ro" in prom_mounts
    grafana = services["grafana"]["volumes"]
    assert "../dashboards:/var/lib/tocsin/dashboards:ro" in grafana
    assert "./grafana/provisioning:/etc/grafana/provisioning:ro" in grafana
    for path in ("./examples/receiver.yml", "./alertmanager/alertmanager.yml"):
        assert (DEPLOY / path).is_file()


def test_grafana_provisioning_points_at_the_dashboards() -> None:
    prov = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/tocsin.yml").read_text())
    assert prov["providers"][0]["options"]["path"] == "/var/lib/tocsin/dashboards"
    ds = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text())
    assert ds["datasources"][0]["type"] == "prometheus"


def test_dockerfile_is_multi_stage_non_root_with_healthcheck() -> None:
    lines = [line.strip() for line in (DEPLOY / "Dockerfile").read_text().splitlines()]
    froms = [line for line in lines if line.startswith("FROM ")]
    assert len(froms) >= 2 and " AS " in froms[0]
    assert any(line.startswith("COPY --from=") for line in lines)
    users = [line for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("USER root", "USER 0")
    assert any(line.startswith("HEALTHCHECK ") for line in lines)


@pytest.mark.parametrize("unit", sorted((DEPLOY / "systemd").glob("*.service")), ids=str)
def test_systemd_units_are_sandboxed(unit: Path) -> None:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(unit)
    service = parser["Service"]
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "PrivateTmp": "yes",
        "ProtectKernelTunables": "yes",
        "ProtectControlGroups": "yes",
        "RestrictSUIDSGID": "yes",
    }.items():
        assert service.get(key) == value, key
    assert service.get("ProtectHome") in ("yes", "read-only")
    assert service.get("User") and service.get("User") != "root"
    assert service.get("StateDirectory")
    assert service.get("CapabilityBoundingSet") == ""
