"""The prompt files. Installed as the package `bot.prompt_files` (pyproject's package-dir); read by `bot.prompts`."""
