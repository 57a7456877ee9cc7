"""`python -m assistant.api --write`: regenerate the committed OpenAPI schema (assistant/api/openapi.json)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

SCHEMA = Path(__file__).with_name("openapi.json")


def schema() -> str:
    from assistant.api import create_app
    from assistant.settings import Settings
    from assistant.wiring import Services

    return json.dumps(create_app(Services(Settings())).openapi(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    text = schema()
    if "--write" in sys.argv:
        SCHEMA.write_text(text, encoding="utf-8")
        print(f"wrote {SCHEMA}")
    else:
        print(text)
