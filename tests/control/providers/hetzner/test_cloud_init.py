from __future__ import annotations

from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]
from hypothesis import given
from hypothesis import strategies as st

from tests.control.providers.hetzner.hosts import make_firewall, make_volume, new_host_id, run
from tests.support.fakes.hetzner import FakeHetzner
from webhost.control.providers.hetzner import yaml_text
from webhost.control.providers.hetzner.cloud import HetznerCloud
from webhost.control.providers.hetzner.cloud_init import (
    IMAGE_UID,
    TLS_CERTIFICATE,
    TLS_KEY,
    HostTls,
    shared_host_user_data,
)
from webhost.control.providers.hetzner.labels import host_labels
from webhost.errors import ProvisioningError

IMAGE = "ghcr.io/webhost/webhost:1.4.2"
DEVICE = "/dev/disk/by-id/scsi-0HC_Volume_4711"
SECRET = "postgres-password-that-must-stay-secret"


def render(**overrides: Any) -> str:
    arguments: dict[str, Any] = {
        "image": IMAGE,
        "environment": {"WEBHOST_DATABASE_PASSWORD": SECRET, "WEBHOST_DATA_PORT": "8001"},
        "volume_device": DEVICE,
        "ports": {80: 8001, 9100: 9100},
        "command": ["dataplane", "--port", "8001"],
    }
    arguments.update(overrides)
    return shared_host_user_data(**arguments)


def parsed(user_data: str) -> dict[str, Any]:
    assert user_data.startswith("#cloud-config\n")
    document: dict[str, Any] = yaml.safe_load(user_data)
    assert isinstance(document, dict)
    return document


def written(document: dict[str, Any], path: str) -> dict[str, Any]:
    (entry,) = [entry for entry in document["write_files"] if entry["path"] == path]
    return entry


def environment_of(document: dict[str, Any]) -> dict[str, str]:
    content = written(document, "/etc/webhost/dataplane.env")["content"]
    assert content.endswith("\n")
    return dict(line.split("=", 1) for line in content[:-1].split("\n"))


def test_the_user_data_is_cloud_config_that_installs_docker_and_mounts_the_volume() -> None:
    document = parsed(render())

    assert document["package_update"] is True
    assert document["packages"] == ["docker.io"]
    assert document["mounts"] == [
        [DEVICE, "/var/lib/webhost", "ext4", "defaults,nofail,discard", "0", "2"]
    ]
    assert document["runcmd"][-2:] == [
        ["systemctl", "daemon-reload"],
        ["systemctl", "enable", "--now", "webhost-dataplane.service"],
    ]


def test_secrets_are_in_a_root_only_file_and_never_on_a_command_line() -> None:
    document = parsed(render())

    env_file = written(document, "/etc/webhost/dataplane.env")
    assert (env_file["owner"], env_file["permissions"]) == ("root:root", "0600")
    assert environment_of(document) == {
        "WEBHOST_DATA_DIR": "/var/lib/webhost",
        "WEBHOST_DATABASE_PASSWORD": SECRET,
        "WEBHOST_DATA_PORT": "8001",
    }
    unit = written(document, "/etc/systemd/system/webhost-dataplane.service")["content"]
    assert SECRET not in unit
    assert SECRET not in repr(document["runcmd"])


def test_the_service_runs_the_image_with_its_data_on_the_volume() -> None:
    unit = written(parsed(render()), "/etc/systemd/system/webhost-dataplane.service")["content"]

    (start,) = [line for line in unit.splitlines() if line.startswith("ExecStart=")]
    assert start.split() == [
        "ExecStart=/usr/bin/docker", "run", "--rm", "--name", "webhost-dataplane",
        "--env-file", "/etc/webhost/dataplane.env",
        "--volume", "/var/lib/webhost:/var/lib/webhost",
        "--publish", "80:8001", "--publish", "9100:9100",
        IMAGE, "dataplane", "--port", "8001",
    ]  # fmt: skip
    assert "RequiresMountsFor=/var/lib/webhost" in unit.splitlines()
    assert "Restart=always" in unit.splitlines()


def test_the_user_data_is_what_the_server_is_created_with(
    hetzner: FakeHetzner, cloud: HetznerCloud
) -> None:
    host = new_host_id()
    firewall = run(make_firewall(cloud, host))
    volume = run(make_volume(cloud, host))
    user_data = render(volume_device=volume.linux_device)

    server = run(cloud.ensure_server(host, host_labels(host), user_data, firewall, volume))

    stored = parsed(hetzner.project.user_data[server.id])
    assert stored["mounts"][0][0] == f"/dev/disk/by-id/scsi-0HC_Volume_{volume.id}"
    assert environment_of(stored)["WEBHOST_DATABASE_PASSWORD"] == SECRET


one_line = st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\n\r\x00"))
variable_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,30}", fullmatch=True)


@given(environment=st.dictionaries(variable_names, one_line, max_size=5))
def test_any_one_line_environment_value_reaches_the_file_unchanged(
    environment: dict[str, str],
) -> None:
    environment.pop("WEBHOST_DATA_DIR", None)

    user_data = render(environment=environment)

    expected = {"WEBHOST_DATA_DIR": "/var/lib/webhost", **environment}
    assert environment_of(parsed(user_data)) == expected


def test_a_value_that_is_not_unicode_text_is_refused() -> None:
    with pytest.raises(ProvisioningError, match="the value of WEBHOST_KEY is not valid Unicode"):
        render(environment={"WEBHOST_KEY": "half a pair \ud800"})


yaml_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(alphabet=st.characters(exclude_categories=["Cs"])),
)
yaml_values = st.recursive(
    yaml_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@given(document=st.dictionaries(st.text(max_size=10), yaml_values, max_size=5))
def test_written_yaml_reads_back_as_the_same_document(document: dict[str, Any]) -> None:
    assert yaml.safe_load(yaml_text.dump(document)) == (document or {})


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"image": "ghcr.io/webhost/webhost:1.0 --privileged"}, "is not a container image"),
        ({"image": "$(reboot)"}, "is not a container image"),
        ({"environment": {"BAD NAME": "x"}}, "is not an environment variable name"),
        ({"volume_device": "scsi-0HC_Volume_1"}, "is not an absolute path"),
        ({"mount_point": "/var/lib/../etc"}, "is not an absolute path"),
        ({"ports": {0: 8001}}, "is not a port number"),
        ({"ports": {80: 70_000}}, "is not a port number"),
        ({"command": ["dataplane", "--name=a b"]}, "cannot carry as they are"),
        ({"command": ["%h"]}, "cannot carry as they are"),
    ],
)
def test_arguments_that_would_break_the_user_data_are_refused(
    overrides: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ProvisioningError, match=problem):
        render(**overrides)


def test_a_multi_line_secret_is_refused_without_showing_it() -> None:
    with pytest.raises(ProvisioningError) as refused:
        render(environment={"WEBHOST_TOKEN": f"{SECRET}\nINJECTED=1"})

    assert refused.value.message == "the value of WEBHOST_TOKEN must be one line of text"
    assert SECRET not in str(refused.value)


def test_with_tls_the_plane_serves_https_with_a_key_only_the_image_user_reads() -> None:
    tls = HostTls(
        certificate_pem="-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        key_pem="-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n",
    )
    document = parsed(render(ports={443: 8001}, tls=tls))
    certificate, key = written(document, TLS_CERTIFICATE), written(document, TLS_KEY)
    assert certificate["content"] == tls.certificate_pem
    assert key["content"] == tls.key_pem
    assert (certificate["permissions"], key["permissions"]) == ("0644", "0600")
    # the image's user (the Dockerfile's uid) owns the key, inside the container too
    assert certificate["owner"] == key["owner"] == "webhost:webhost"
    assert certificate["defer"] is key["defer"] is True  # written once the user exists
    [default, user] = document["users"]
    assert default == "default"
    assert (user["name"], user["uid"], user["system"]) == ("webhost", IMAGE_UID, True)
    assert environment_of(document)["WEBHOST_DATAPLANE_TLS_CERTIFICATE_FILE"] == TLS_CERTIFICATE
    assert environment_of(document)["WEBHOST_DATAPLANE_TLS_KEY_FILE"] == TLS_KEY
    unit = written(document, "/etc/systemd/system/webhost-dataplane.service")["content"]
    assert "--volume /etc/webhost/tls:/etc/webhost/tls:ro" in unit
    assert "--publish 443:8001" in unit
    # without TLS there is no user, no key and no mount
    plain = parsed(render())
    assert "users" not in plain
    assert "/etc/webhost/tls" not in yaml.safe_dump(plain)


@pytest.mark.parametrize("field", ["certificate_pem", "key_pem"])
def test_tls_material_that_is_not_pem_is_refused(field: str) -> None:
    values = {
        "certificate_pem": "-----BEGIN CERTIFICATE-----\n",
        "key_pem": "-----BEGIN PRIVATE KEY-----\n",
    }
    values[field] = "not pem \u2603"
    with pytest.raises(ProvisioningError, match="is not PEM text"):
        render(tls=HostTls(**values))
