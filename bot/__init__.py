"""Answer questions over indexed reports, with cited sections: CLI and Telegram."""
