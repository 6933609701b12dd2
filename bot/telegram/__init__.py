"""The Telegram front end: thin handlers over the answering core."""
