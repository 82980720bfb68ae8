"""Realistic providers.d trees for the benchmark: N files, each a Provider with 10 models
(templated baseUrl and apiKey, headers), a second Provider, and every fourth file an overlay
of the previous file's provider."""

from __future__ import annotations

from pathlib import Path

import yaml


def documents(index: int) -> list[dict[str, object]]:
    models = {
        f"model-{j}:{8 * (j + 1)}b": {"contextWindow": 8192 * (j + 1), "maxTokens": 1024}
        for j in range(10)
    }
    docs: list[dict[str, object]] = [
        {
            "kind": "Provider",
            "id": f"p{index}",
            "api": "openai-completions",
            "baseUrl": f"{{{{ env.P{index}_URL | default('https://p{index}.example.com/v1') }}}}",
            "apiKey": f"{{{{ env.P{index}_KEY | default('') }}}}",
            "headers": {"X-Team": f"team-{index % 7}", "X-Env": "prod"},
            "contextWindow": 32768,
            "maxTokens": 4096,
            "models": models,
        },
        {
            "kind": "Provider",
            "id": f"q{index}",
            "api": "anthropic-messages",
            "baseUrl": f"https://q{index}.example.com",
            "apiKey": "{{ env.Q_KEY | default('') }}",
            "contextWindow": 200000,
            "maxTokens": 8192,
            "models": {f"claude-{j}": {"maxTokens": 4096 + j} for j in range(10)},
        },
    ]
    if index % 4 == 3:
        docs.append(
            {
                "kind": "Provider",
                "id": f"p{index - 1}",
                "overlay": True,
                "maxTokens": 2048,
                "headers": {"X-Env": "staging", "X-Team": None},
            }
        )
    return docs


def generate(root: Path, files: int) -> Path:
    """Write a tree of ``files`` files under root/providers.d and return that directory."""
    tree = root / "providers.d"
    tree.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        text = yaml.safe_dump_all(documents(i), sort_keys=False)
        (tree / f"{i:05d}-providers.yaml").write_text(text)
    return tree


def split(tree: Path, out: Path) -> list[Path]:
    """The same documents, one per file: check-jsonschema reads single-document files only."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for file in sorted(tree.glob("*.yaml")):
        for n, doc in enumerate(yaml.safe_load_all(file.read_text())):
            path = out / f"{file.stem}-{n}.yaml"
            path.write_text(yaml.safe_dump(doc, sort_keys=False))
            paths.append(path)
    return paths
