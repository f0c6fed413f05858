# The README's commands. `make run` starts Tessera with the example tenant; `make test` runs every test.
DATA_DIR ?= .tessera
PORT ?= 8080
export TESSERA_DEMO_PASSWORD ?= Demo-Passw0rd
# Demo only: the example workspace's admin token (signs the Tinybird JWTs the example Action mints).
export TINYBIRD_ADMIN_TOKEN ?= demo-admin-token-change-me-0123456789abcdef
# Demo only: the GraphQL engine's admin secret (examples/actions/hasura-sync-users.js carries the same value).
export HASURA_GRAPHQL_ADMIN_SECRET ?= demo-hasura-admin-secret-change-me
# Demo only: the Directory sync application's client secret, and the directory's admin and Auth0-scoped API keys.
export DIRECTORY_SYNC_CLIENT_SECRET ?= demo-directory-sync-secret-change-me-0123456789
export USERHUB_ADMIN_KEY ?= userhub_admin_demo-change-me-0123456789
export USERHUB_API_KEY ?= userhub_admin_demo-auth0-action-change-me-0123456789
# Where a browser reaches Tessera; the demo application's callback and origin follow it (examples/tessera.yaml).
export TESSERA_URL ?= http://127.0.0.1:$(PORT)

.PHONY: run demo test bench build clean

build:
	scripts/install-deps.sh run
	swift build

run:
	scripts/install-deps.sh run
	swift build
	scripts/run.sh $(PORT) $(TESSERA_URL) $(DATA_DIR)

# The same as run: the demo is part of the example tenant (open $(TESSERA_URL)/demo/).
demo: run

test:
	scripts/test.sh

# STORE=sqlite (default), postgres or both: the main store the server benchmarks run on (Benchmarks/common.sh);
# with PostgreSQL, Benchmarks/instances.sh also runs two instances on one database.
STORE ?= sqlite
bench:
	scripts/install-deps.sh bench
	Benchmarks/speed.sh
	for store in $(if $(filter both,$(STORE)),sqlite postgres,$(STORE)); do \
	  STORE=$$store Benchmarks/run.sh && STORE=$$store Benchmarks/signin.sh && STORE=$$store Benchmarks/actions.sh && \
	  STORE=$$store Benchmarks/analytics.sh && STORE=$$store Benchmarks/charts.sh || exit 1; \
	done
	$(if $(filter both postgres,$(STORE)),Benchmarks/instances.sh)

clean:
	rm -rf .build $(DATA_DIR)
