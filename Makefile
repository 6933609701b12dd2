.PHONY: install test lint bench
install:
	python3 -m venv .venv && .venv/bin/pip install -e ".[test,bench]"
test:
	.venv/bin/pip install -q -e ".[test]" && .venv/bin/python -m pytest
lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
bench:
	.venv/bin/python -m bench.run_all
