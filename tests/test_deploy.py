"""deploy/ as printed: the systemd units verify and start as written, nginx accepts the shipped site
(TLS included), and Prometheus gets alerting, rule evaluation and an alert for each failure we document."""

import datetime
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.cluster_harness import require_nginx
from tests.test_server_process import ROOT

DEPLOY = os.path.join(ROOT, "deploy")
UNITS = ("tornado-arena.service", "tornado-arena@.service")


def read(name: str) -> str:
    with open(os.path.join(DEPLOY, name), encoding="utf-8") as handle:
        return handle.read()


@pytest.mark.parametrize("unit", UNITS)
def test_unit_values_carry_no_comments(unit):
    """systemd reads a `#` after a value as part of it (an EnvironmentFile named "env  # SECRET_KEY...")."""
    for line in read(unit).splitlines():
        if "=" in line and not line.startswith("#"):
            assert "#" not in line, line


@pytest.mark.parametrize("unit", UNITS)
def test_units_verify(unit, tmp_path):
    """`systemd-analyze verify` on the unit as shipped, with this checkout and interpreter as its paths."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    text = read(unit).replace("/opt/tornado-arena/venv/bin/python", sys.executable)
    text = text.replace("WorkingDirectory=/opt/tornado-arena", f"WorkingDirectory={ROOT}")
    path = tmp_path / unit.replace("@.", "@a.")
    path.write_text(text)
    result = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True, timeout=60)
    problems = [line for line in result.stderr.splitlines() if path.name in line or "Unknown" in line]
    assert result.returncode == 0 and problems == [], result.stderr


def test_each_cluster_process_has_its_own_metrics_port_and_journal():
    template = read("tornado-arena@.service")
    assert "ARENA_METRICS_PORT" not in "\n".join(l for l in template.splitlines() if not l.startswith("#"))
    assert "ARENA_METRICS_PORT=91" in template  # the per-process env file's example names one
    assert "Environment=ARENA_RESULTS_JOURNAL=/var/lib/tornado-arena/%i/pending-results" in template
    for unit in UNITS:
        assert "RestartPreventExitStatus=2" in read(unit) and "StartLimitBurst=" in read(unit)


def self_signed(directory) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "play.example")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    cert_path, key_path = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    with open(cert_path, "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return cert_path, key_path


def test_nginx_accepts_the_shipped_site_with_tls_and_hsts(tmp_path):
    require_nginx()
    cert, key = self_signed(tmp_path)
    site = read("nginx.conf")
    assert "default_server" in site and "Strict-Transport-Security" in site and "return 301 https://" in site
    site = site.replace("/etc/letsencrypt/live/play.example/fullchain.pem", cert)
    site = site.replace("/etc/letsencrypt/live/play.example/privkey.pem", key)
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  include {tmp_path}/site.conf;\n}}\n")
    result = subprocess.run(["nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                            capture_output=True, text=True, timeout=60)
    assert "test is successful" in result.stderr, result.stderr


def test_prometheus_evaluates_rules_often_and_sends_alerts_somewhere():
    config = yaml.safe_load(read("prometheus.yml"))
    assert config["global"]["evaluation_interval"] == "15s"
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert config["rule_files"] == ["arena-alerts.yml"]


def test_every_alert_waits_before_firing_and_redis_and_readiness_have_theirs():
    rules = yaml.safe_load(read("arena-alerts.yml"))["groups"][0]["rules"]
    assert all(re.fullmatch(r"\d+[smh]", rule["for"]) for rule in rules)
    expressions = {rule["alert"]: rule["expr"] for rule in rules}
    assert "arena_redis_up" in expressions["ArenaRedisDown"] and "arena_ready" in expressions["ArenaNotReady"]
    operations = open(os.path.join(ROOT, "docs", "operations.md"), encoding="utf-8").read()
    for rule in rules:  # the table in docs/operations.md lists each, with its `for:`
        assert re.search(rf"`{rule['alert']}`[^\n]*\|[^\n]*{rule['for']}", operations), rule["alert"]
