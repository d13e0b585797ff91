# Two commands set everything up on a machine with Python 3.11, gcc and make:
#   make demo   - the main job on bundled data, written to kece-out/
#   make test   - the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Reinstall when the project's metadata changes; otherwise both targets reuse the environment.
STAMP := $(VENV)/.installed
# The optional Spark extra (pyspark, ~450 MB); `make test` runs the Spark tests only where it and Java 17+ are.
SPARK_STAMP := $(VENV)/.spark-installed

.PHONY: demo test lint bench bench-large bench-spark spark schema clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(SPARK_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,spark]'
	touch $(SPARK_STAMP)

spark: $(SPARK_STAMP)

demo: $(STAMP)
	@rm -rf kece-out/demo
	$(BIN)/kece check
	$(BIN)/kece test
	$(BIN)/kece evaluate data/samples/customers.csv -o kece-out/demo/customers.evaluated.csv
	$(BIN)/kece report data/samples/customers.csv --cross bank_tier,bank_quadrant -o kece-out/demo/report.html
	$(BIN)/kece plan data/samples/customers.csv --all -o kece-out/demo/plans/md
	$(BIN)/kece plan data/samples/customers.csv --all --format html -o kece-out/demo/plans/html
	$(BIN)/kece calibrate data/cdnow/CDNOW_master.txt --as-of 1998-07-01 -o kece-out/demo/cdnow/calibration.yaml
	$(BIN)/kece derive data/cdnow/CDNOW_master.txt --as-of 1998-07-01 --calibration kece-out/demo/cdnow/calibration.yaml -o kece-out/demo/cdnow/customers.csv
	$(BIN)/kece evaluate kece-out/demo/cdnow/customers.csv -q -o kece-out/demo/cdnow/customers.evaluated.csv
	$(BIN)/kece report kece-out/demo/cdnow/customers.csv --cross rfm_segment,value_pyramid -o kece-out/demo/cdnow/report.html
	$(BIN)/kece evaluate --customer '{"assets": 6000000, "credit_record": "excellent", "statements": "complete", "risk_assessment": "complete"}' --scheme bank_tier
	@echo
	@echo "kece demo wrote:"
	@find kece-out/demo -type f -not -path 'kece-out/demo/plans/*' | sort | sed 's/^/  /'
	@echo "  kece-out/demo/plans/md/ and html/: one plan per customer, index.md and index.html, tasks.csv and tasks.ics"

test: $(STAMP)
	$(BIN)/ruff check engine cli.py tests bench data
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check engine cli.py tests bench data

bench: $(STAMP)
	$(BIN)/python bench/bench_evaluate.py
	$(BIN)/python bench/bench_ingest.py
	$(BIN)/python bench/bench_check.py
	$(BIN)/python bench/bench_plan.py

bench-large: $(STAMP)
	$(BIN)/python bench/bench_large.py

bench-spark: $(SPARK_STAMP)
	$(BIN)/python bench/bench_spark.py

schema: $(STAMP)
	$(BIN)/kece schema -o docs/kece-rules.schema.json
	$(BIN)/kece schema --kind policy -o docs/kece-policy.schema.json
	$(BIN)/kece schema --kind actions -o docs/kece-actions.schema.json

clean:
	rm -rf $(VENV) kece-out .pytest_cache .hypothesis
