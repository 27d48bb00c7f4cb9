"""docs/fleet.md's signature verification code, in Python and in JavaScript, accepts what the
data plane signs and refuses forged, altered and stale deliveries."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from webhost.data.fleet.webhook_signing import signature_header

DOC = Path(__file__).resolve().parents[3] / "docs" / "fleet.md"
SECRET = "whsec_documented"
BODY = b'{"type":"geofence_enter","data":{"id":1}}'


def code_block(language: str) -> str:
    webhooks = DOC.read_text().split("## Webhooks", 1)[1]
    found = re.search(rf"```{language}\n(.*?)```", webhooks, re.DOTALL)
    assert found, f"no {language} block in the webhooks section"
    return found.group(1)


def cases() -> list[tuple[str, bytes, str, bool]]:
    now = int(time.time())
    return [
        ("signed now", BODY, signature_header(SECRET, BODY, now), True),
        ("altered body", BODY + b" ", signature_header(SECRET, BODY, now), False),
        ("other secret", BODY, signature_header("whsec_other", BODY, now), False),
        ("replayed an hour later", BODY, signature_header(SECRET, BODY, now - 3600), False),
        ("no signature", BODY, "t=1", False),
        ("garbage header", BODY, "nonsense", False),
    ]


def test_the_python_verification_in_the_docs() -> None:
    namespace: dict[str, Any] = {}
    exec(compile(code_block("python"), str(DOC), "exec"), namespace)  # noqa: S102 - our docs
    for name, body, header, expected in cases():
        assert namespace["verify"](SECRET, body, header) is expected, name


def test_the_javascript_verification_in_the_docs(tmp_path: Path) -> None:
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False)
    if node.returncode != 0:
        pytest.skip("Node.js is not installed")
    checks = "\n".join(
        f"check({name!r}, Buffer.from({list(body)!r}), {header!r}, {str(expected).lower()})"
        for name, body, header, expected in cases()
    )
    program = tmp_path / "verify.mjs"
    program.write_text(
        code_block("javascript")
        + f"""
let failed = 0
function check (name, body, header, expected) {{
  const got = verify({SECRET!r}, body, header)
  if (got !== expected) {{ failed += 1; console.error(name, 'gave', got) }}
}}
{checks}
process.exit(failed)
"""
    )
    ran = subprocess.run(["node", str(program)], capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
