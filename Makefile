# Makefile for the lambda extension (PGXS)

EXTENSION = lambda
MODULE_big = lambda
OBJS = \
	src/lambda.o \
	src/catalog.o \
	src/master.o \
	src/viewdef.o \
	src/views.o \
	src/batch.o src/compact.o \
	src/schedule.o \
	src/guard.o \
	src/identity.o \
	src/ddl.o \
	src/restore.o \
	src/guc.o \
	src/shmem.o \
	src/layout.o src/aggregate.o src/partial.o \
	src/capture.o src/fold.o src/lookup.o src/merge.o \
	src/speed.o src/grouptable.o src/persist.o \
	src/serving.o \
	src/worker.o

DATA = $(wildcard sql/lambda--*.sql)
PGFILEDESC = "lambda - Lambda Architecture inside PostgreSQL"

# The library is preloaded into every backend: only what PostgreSQL calls
# by name is exported (SQL-callable functions, _PG_init, the magic block,
# which PGDLLEXPORT marks); everything else is hidden, whatever its name.
PG_CPPFLAGS = -I$(srcdir)/src \
	-D'PGDLLEXPORT=__attribute__((visibility("default")))'
PG_CFLAGS = -fvisibility=hidden -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
	-Wno-missing-field-initializers
# CI and the test command build with WERROR=1 (-Werror); a user's newer
# compiler may warn where ours does not, and that must not fail an install.
ifdef WERROR
PG_CFLAGS += -Werror
endif

# Tests: pg_regress suites in test/sql, isolation specs in test/specs,
# expected output in expected/ (test/expected links to it), TAP in test/t.
# Each suite starts its own throwaway server with pg_cron and lambda preloaded.
REGRESS = setup master api semantics aggregates batch compact speed errors security edges
REGRESS_OPTS = --inputdir=test --temp-config=$(srcdir)/test/regress.conf \
	--temp-instance=$(CURDIR)/tmp_check_regress
ISOLATION = batch_commit batch_reader batch_abort batch_concurrent \
	speed_commit speed_abort speed_2pc speed_reader ddl_capture compact_concurrent \
	settled_limit
ISOLATION_OPTS = --inputdir=test --temp-config=$(srcdir)/test/isolation.conf \
	--temp-instance=$(CURDIR)/tmp_check_isolation
TAP_TESTS = 1
PROVE_TESTS = test/t/*.pl
EXTRA_CLEAN = tmp_check_regress tmp_check_isolation results output_iso

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS tracks no header dependencies: rebuild every object when a header
# changes, so that no two objects disagree about a shared struct.
$(OBJS): $(wildcard $(srcdir)/src/*.h)
