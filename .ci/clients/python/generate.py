"""Generate the Python client with openapi-python-client's own API, so that
every problem it reports is a record (level, header, detail) rather than
text: any error, and any warning that allowed-warnings does not list, fails.

    python generate.py OPENAPI_JSON OUTPUT_DIR ALLOWED_WARNINGS

allowed-warnings holds the generator's known limits, one a line:
`<the header> | <the detail>`, as this script prints them.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from openapi_python_client import generate
from openapi_python_client.config import Config, ConfigFile, MetaType
from openapi_python_client.parser.errors import ErrorLevel


def normalized(text: str | None) -> str:
    # The generator prints some status codes as `<... object at 0x...>`.
    text = re.sub(r"<[A-Za-z_.]+ object at 0x[0-9a-f]+>", "<status>", text or "")
    return " ".join(text.split())


def main() -> int:
    document, output, allowed_file = sys.argv[1:4]
    allowed = {
        line.strip()
        for line in Path(allowed_file).read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    }
    config = Config.from_sources(
        ConfigFile(), MetaType.NONE, Path(document), "utf-8", False, output_path=Path(output)
    )
    problems = generate(config=config)
    seen: set[str] = set()
    failures = 0
    for problem in problems:
        record = f"{normalized(problem.header)} | {normalized(problem.detail)}"
        if problem.level == ErrorLevel.WARNING and record in allowed:
            seen.add(record)
            print(f"openapi-python-client (allowed): {record}")
            continue
        failures += 1
        print(f"openapi-python-client {problem.level.value}: {record}", file=sys.stderr)
        data = getattr(problem, "data", None)
        if data is not None:
            print("    " + data.model_dump_json(exclude_unset=True, by_alias=True)[:400], file=sys.stderr)
    for record in sorted(allowed - seen) if not failures else []:
        print(f"openapi-python-client: allowed warning no longer seen, drop it from {allowed_file}: {record}")
    if failures:
        print(
            f"openapi-python-client reported {failures} problem(s) with the OpenAPI document: "
            "fix the document, or list a limit of the generator in " + allowed_file,
            file=sys.stderr,
        )
        return 1
    if not (Path(output) / "__init__.py").is_file():
        print(f"openapi-python-client wrote no package to {output}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
