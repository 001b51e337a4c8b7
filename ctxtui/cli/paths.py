"""``ctxtui paths``: where every file and folder ctxtui uses is."""

from __future__ import annotations

import argparse
import os

from ctxtui.cli.base import command
from ctxtui.cli.output import emit_json, wants_json
from ctxtui.core import config, memo, tokens
from ctxtui.core.config import Settings


@command("paths")
def cmd_paths(args: argparse.Namespace, settings: Settings) -> int:
    data = {
        "workspace": str(settings.workspace),
        "agents": str(settings.agents_dir),
        "user_agents": str(settings.user_agents_dir),
        "libraries": [str(p) for p in config.library_roots(settings)],
        "cold_store": str(settings.cold_store),
        "state": str(settings.state_dir),
        "workspace_config": str(settings.workspace / config.WORKSPACE_CONFIG_NAME),
        "settings_file": str(config.settings_file()),
        "token_cache": str(settings.cache_path),
        "memo": str(settings.cache_path.parent / memo.FILE_NAME) if settings.cache_path else "None",
        "transcript_cache": str(config.cache_dir() / "transcripts"),
        "status_cache": str(config.cache_dir() / "status"),
        "events": str(config.data_dir() / "events.sqlite"),
        "transcripts": str(settings.transcripts),
        "bpe_file": tokens.encoding_source(),
        "user_themes": str(config.config_dir() / "themes"),
    }
    if wants_json(args):
        emit_json(data)
    else:
        width = max(map(len, data))
        for k, v in data.items():
            print(f"{k:<{width}}  {v if isinstance(v, str) else os.pathsep.join(v)}")
    return 0
