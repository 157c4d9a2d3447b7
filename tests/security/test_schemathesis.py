"""Schemathesis over the whole OpenAPI: whatever a client sends, no server error."""

import asyncio
import re
import sys
from pathlib import Path

import pytest

from tests.fixtures.world import World

pytestmark = pytest.mark.processes


async def run_schemathesis(base: str, token: str, report: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{base}/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        "not_a_server_error",
        "--max-examples",
        "15",
        "--generation-deterministic",
        "--request-timeout",
        "20",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode(errors="replace")


async def test_no_server_error_for_a_professional_nor_a_patient(
    live_server: str, world: World, tmp_path: Path
) -> None:
    doctor = await world.professional()
    me = await world.patient(doctor, with_account=True)
    for person in (doctor, me):
        code, output = await run_schemathesis(live_server, person.token, tmp_path / "report.xml")
        assert code == 0, output[-4000:]
        tested = re.search(r"Tested: (\d+)", output)
        cases = re.search(r"(\d+) generated, (\d+) passed", output)
        assert tested and int(tested.group(1)) >= 40, output[-2000:]  # the whole API, not a corner of it
        assert cases and cases.group(1) == cases.group(2) and int(cases.group(1)) > 500, output[-2000:]
